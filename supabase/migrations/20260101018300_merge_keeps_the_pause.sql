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
-- The merge itself (20260101008120) stays as it is, renamed; merge_patient reads both pauses,
-- merges, then sets the one kept. The caller (bot/dialogs/joining.py) then pauses the merged
-- record through scheduler.holds, which withdraws what the record that was not paused still had
-- pending.
alter function public.merge_patient(uuid, uuid, timestamptz) rename to merge_patient_rows;

create function public.merge_patient(p_from uuid, p_into uuid, p_at timestamptz)
  returns void language plpgsql set search_path = public, pg_temp as $$
-- Merge record p_from (the person's own, self-registered) into p_into (the clinic's record that
-- invited them): merge_patient_rows, keeping the pause of either that lasts longer.
declare
  paused boolean;
  ends timestamptz;
begin
  -- Locked first, as merge_patient_rows locks them: a /pause landing in between waits.
  perform 1 from public.patients where id in (p_from, p_into) order by id for update;
  -- An end belongs to its pause (20260101018260's trigger clears it on a record not paused).
  select coalesce(bool_or(reminders_paused), false),
         case when bool_or(reminders_paused and reminders_paused_until is null) then null
              else max(reminders_paused_until) end
    into paused, ends
    from public.patients where id in (p_from, p_into);
  perform public.merge_patient_rows(p_from, p_into, p_at);
  update public.patients
     set reminders_paused = paused, reminders_paused_until = ends
   where id = p_into;
end
$$;

-- Service-only, as the merge it wraps (20260101008100, 20260101011530).
revoke all on function public.merge_patient(uuid, uuid, timestamptz)
  from public, anon, authenticated;
grant execute on function public.merge_patient(uuid, uuid, timestamptz)
  to medremind_app, service_role;
