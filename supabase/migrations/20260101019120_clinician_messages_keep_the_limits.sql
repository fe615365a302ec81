-- A clinician's own rows of scheduled_messages keep the clinic's share of priority 0 and the
-- per-patient cap of clinic messages.
--
-- Supabase gives every signed-in clinician the dashboard's role over PostgREST
-- (POST /rest/v1/scheduled_messages with their JWT), with insert and update on every column.
-- The dashboard's Compose sets neither priority nor created_at, and marks its rows as the
-- clinic's (payload source: dashboard), but the role itself could:
-- - insert any number of messages at priority 0, which the claim takes first whichever clinic's
--   they are: ahead of every other clinic's dose reminders on a shared bot or number. The API
--   and the dashboard's re-send take priority 0 from the clinic's hourly share
--   (public.take_priority_zero, MEDREMIND_API_PRIORITY_ZERO_PER_HOUR); this role took none.
-- - give a patient any number of messages past the cap (migration 20260101018340): with
--   from_clinic false and no payload source the cap's trigger did not fire, and a created_at in
--   the past left the row out of the windows it counts; an update did the same afterwards.
--
-- So a row the role inserts is the clinic's (from_clinic, unless it is a re-send copy, which
-- public.resend_message makes and which is not counted, as before) and created now; an update
-- keeps both as they were; and priority 0, inserted or set, takes one of the clinic's share for
-- the hour it goes (as resend_message reckons it), else the row goes at the default priority (5;
-- an update keeps the priority it had). Exempt: a re-send copy (resend_message took its share),
-- and a dose's own message set to priority 0 because its medicine is time-critical
-- (public.set_time_critical, the planner's rule). Before the cap's trigger (named after it) and
-- after the one that fills the organization in. tests/integration/test_priority_zero_hours_clinician.py.

create function public.scheduled_messages_limits_of_clinician() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
declare
  goes_at timestamptz;
begin
  if tg_op = 'INSERT' then
    new.created_at := now();
    new.from_clinic := new.resent_from is null;
  else
    new.created_at := old.created_at;
    new.from_clinic := old.from_clinic;
  end if;
  if new.priority <> 0 or new.resent_from is not null
     or (tg_op = 'UPDATE' and old.priority = 0) then
    return new;
  end if;
  if tg_op = 'UPDATE' and new.dose_event_id is not null and exists (
       select from dose_events d join medications m on m.id = d.medication_id
        where d.id = new.dose_event_id and m.time_critical) then
    return new;
  end if;
  -- When it goes: its time (now at the earliest), or the end of the quiet hours holding it (the
  -- dispatcher's deferral: not urgent, not an appointment's, not a caregiver's).
  goes_at := greatest(coalesce(new.scheduled_time, now()), now());
  if not new.urgent and new.caregiver_id is null
     and new.kind not in ('appointment_confirmation', 'appointment_reminder',
                          'appointment_rescheduled', 'appointment_cancelled') then
    goes_at := coalesce(
      public.patient_quiet_end(new.patient_id, new.organization_id, goes_at), goes_at);
  end if;
  if public.take_priority_zero(
       new.organization_id, goes_at,
       coalesce((select l.api_priority_zero_per_hour from service_limits l), 100), now()) is null
  then
    new.priority := case when tg_op = 'INSERT' then 5 else old.priority end;
  end if;
  return new;
end
$$;
revoke all on function public.scheduled_messages_limits_of_clinician() from public;

create trigger scheduled_messages_limits_of_clinician
  before insert or update on public.scheduled_messages
  for each row when (current_user = 'authenticated')
  execute function public.scheduled_messages_limits_of_clinician();
