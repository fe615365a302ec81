-- A merge keeps the pause. merge_patient took the self-registered record's reminders_paused and
-- nothing of its end: a patient who had sent "/pause 3 days" came out of the merge paused until
-- they thought to /resume (the end was the clinic record's, null), and a clinic record paused
-- (the clinic's API, PATCH /patients/{id}) came out unpaused when the patient's own record was
-- not, so reminders the pause was to hold went out.
--
-- What a clinic expects: one person, one pause. Whoever of the two asked for a pause did so
-- because they must not get those reminders now, so the merged record is paused when either
-- was, and keeps the pause that lasts longer: an open-ended pause (until a resume) over one with
-- an end, else the later end. A shorter pause would send reminders the other pause was asked to
-- hold; a longer one only delays them until its end passes (told to the patient then:
-- scheduler/pause_ends.py) or a /resume, which the patient can send at any time. An end already
-- past at the merge is kept as it is: the planner's next tick ends that pause and tells them,
-- as it would have without the merge.
--
-- Only the pause lines differ from 20260101008120's function. The caller (bot/dialogs/joining.py)
-- then pauses the merged record through scheduler.holds, which withdraws what the record that
-- was not paused still had pending.
create or replace function public.merge_patient(p_from uuid, p_into uuid, p_at timestamptz)
  returns void language plpgsql as $$
-- Merge record p_from (the person's own, self-registered) into p_into (the clinic's record that
-- invited them): every row of p_from moves, the person's own choices win over the clinic's
-- defaults, the clinic keeps its name for the patient (when it gave one) and its external id,
-- and consent is the moment of the merge (the person just agreed to it). A pause of either
-- record holds (below). p_from is deleted.
declare
  src public.patients;
  dst public.patients;
  fk record;
begin
  if p_from = p_into then
    raise exception 'merge_patient: a record cannot be merged into itself'
      using errcode = 'invalid_parameter_value';
  end if;
  select * into src from public.patients where id = p_from for update;
  select * into dst from public.patients where id = p_into for update;
  if src.id is null or dst.id is null then
    raise exception 'merge_patient: unknown patient' using errcode = 'no_data_found';
  end if;
  if src.organization_id is not null then
    -- A clinic's record is that clinic's: merging it would hand its rows to another clinic.
    raise exception 'merge_patient: only a self-registered record can be merged'
      using errcode = 'invalid_parameter_value';
  end if;
  -- First what others check against (a question names a dose of its own patient), then the rest.
  update public.contact_points set patient_id = p_into where patient_id = p_from;
  update public.medications set patient_id = p_into where patient_id = p_from;
  update public.reminder_schedules set patient_id = p_into where patient_id = p_from;
  update public.dose_events set patient_id = p_into where patient_id = p_from;
  update public.scheduled_messages
     set patient_id = p_into, organization_id = dst.organization_id
   where patient_id = p_from;
  delete from public.patient_invites where patient_id = p_from;
  for fk in
    select c.conrelid::regclass as tbl, a.attname as col
      from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     where c.contype = 'f' and c.confrelid = 'public.patients'::regclass
       and cardinality(c.conkey) = 1
       and c.conrelid not in ('public.patients'::regclass, 'public.patient_invites'::regclass)
     order by c.conrelid::regclass::text, a.attname
  loop
    execute format('update %s set %I = $1 where %I = $2', fk.tbl, fk.col, fk.col)
      using p_into, p_from;
  end loop;
  update public.patients p
     set display_name = coalesce(dst.display_name, src.display_name),
         locale = src.locale, timezone = src.timezone, timezone_mode = src.timezone_mode,
         home_timezone = src.home_timezone,
         quiet_start = src.quiet_start, quiet_end = src.quiet_end,
         channel_order = src.channel_order,
         name_medicine_in_reminders = src.name_medicine_in_reminders,
         nag_interval_minutes = src.nag_interval_minutes, nag_max = src.nag_max,
         -- Paused when either was; the pause that lasts longer: open-ended over an end, else
         -- the later end (the end follows the pause: 20260101018260's trigger clears it on a
         -- record that is not paused, so each end below belongs to a pause).
         reminders_paused = src.reminders_paused or dst.reminders_paused,
         reminders_paused_until = case
           when (src.reminders_paused and src.reminders_paused_until is null)
             or (dst.reminders_paused and dst.reminders_paused_until is null) then null
           else greatest(src.reminders_paused_until, dst.reminders_paused_until)
         end,
         wake_time = src.wake_time, breakfast_time = src.breakfast_time,
         lunch_time = src.lunch_time, dinner_time = src.dinner_time, sleep_time = src.sleep_time,
         consent_at = p_at, status = 'active'
   where p.id = p_into;
  delete from public.patients where id = p_from;
  -- The moved schedules are planned again for the merged record.
  update public.reminder_schedules set planned_until = null where patient_id = p_into;
end
$$;
