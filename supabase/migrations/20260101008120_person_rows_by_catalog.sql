-- Merge and erasure reach every table that holds a patient's rows, found in the catalog.
--
-- merge_patient (20260101008100) and erase_patient (20260101008110) named the tables of their
-- day; tables added since (conversation_questions, the web app's sessions and sign-in links,
-- websocket deliveries and connections) were left to "on delete cascade": a merge dropped the
-- person's open questions (a "1" after the merge answered nothing) and an erased clinic record
-- kept its rows. Both now walk every foreign key that points at patients(id): the tables whose
-- order matters come first by name, every other one after, so a table added later cannot be
-- missed.

create or replace function public.merge_patient(p_from uuid, p_into uuid, p_at timestamptz)
  returns void language plpgsql as $$
-- Merge record p_from (the person's own, self-registered) into p_into (the clinic's record that
-- invited them): every row of p_from moves, the person's own choices win over the clinic's
-- defaults, the clinic keeps its name for the patient (when it gave one) and its external id,
-- and consent is the moment of the merge (the person just agreed to it). p_from is deleted.
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
         reminders_paused = src.reminders_paused,
         wake_time = src.wake_time, breakfast_time = src.breakfast_time,
         lunch_time = src.lunch_time, dinner_time = src.dinner_time, sleep_time = src.sleep_time,
         consent_at = p_at, status = 'active'
   where p.id = p_into;
  delete from public.patients where id = p_from;
  -- The moved schedules are planned again for the merged record.
  update public.reminder_schedules set planned_until = null where patient_id = p_into;
end
$$;

create or replace function public.erase_patient(p_patient uuid, p_reason text, p_at timestamptz)
  returns void language plpgsql as $$
-- Erase a patient: every row about them goes (the stored texts of their chats, then every row
-- of every table that points at them, found in the catalog); their chats' conversations are
-- kept, unlinked and emptied (the chat may come back with /start). A self-registered record is
-- deleted outright; a clinic's record becomes a tombstone: status 'deleted', erased_at and
-- erasure_reason, no name, no external id, no settings.
declare
  org uuid;
  fk record;
begin
  select organization_id into org from public.patients where id = p_patient for update;
  if not found then
    return;
  end if;
  delete from public.inbound_messages i
   using public.contact_points c
   where c.patient_id = p_patient and i.channel = c.channel and i.chat_address = c.address
     and i.status <> 'received';
  update public.conversations set patient_id = null, step = 'idle', state = '{}'::jsonb
   where patient_id = p_patient;
  if org is null then
    delete from public.patients where id = p_patient;
    return;
  end if;
  for fk in
    select c.conrelid::regclass as tbl, a.attname as col
      from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     where c.contype = 'f' and c.confrelid = 'public.patients'::regclass
       and cardinality(c.conkey) = 1
       and c.conrelid not in ('public.patients'::regclass, 'public.conversations'::regclass)
     order by c.conrelid::regclass::text, a.attname
  loop
    execute format('delete from %s where %I = $1', fk.tbl, fk.col) using p_patient;
  end loop;
  update public.patients
     set display_name = null, external_id = null, status = 'deleted', consent_at = null,
         reminders_paused = false, quiet_start = null, quiet_end = null, home_timezone = null,
         locale = 'en', timezone = 'UTC', channel_order = '{}',
         erased_at = p_at, erasure_reason = p_reason
   where id = p_patient;
end
$$;
