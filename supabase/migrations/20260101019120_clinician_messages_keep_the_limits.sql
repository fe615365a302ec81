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
-- the hour it goes (public.take_message_priority_zero, which resend_message uses too since
-- migration 20260101019130), else the row goes at the default priority (5;
-- an update keeps the priority it had). Exempt: a re-send copy (resend_message took its share),
-- and a dose's own message set to priority 0 because its medicine is time-critical
-- (public.set_time_critical, the planner's rule). Before the cap's trigger (named after it) and
-- after the one that fills the organization in. tests/integration/test_priority_zero_hours_clinician.py.

create function public.take_message_priority_zero(
  m public.scheduled_messages, p_due timestamptz, p_now timestamptz
) returns boolean language plpgsql volatile set search_path = public, pg_temp as $$
  -- One of the clinic's priority-0 messages for the hour m goes in: p_due, or the end of the
  -- patient's quiet hours holding p_due (the dispatcher's deferral: not urgent, not an
  -- appointment's, not a caregiver's, whose window is their own). False: the hour's share is
  -- taken (public.take_priority_zero, with the share the processes publish in service_limits).
declare
  goes_at timestamptz := p_due;
begin
  if not m.urgent and m.caregiver_id is null
     and m.kind not in ('appointment_confirmation', 'appointment_reminder',
                        'appointment_rescheduled', 'appointment_cancelled') then
    goes_at := coalesce(public.patient_quiet_end(m.patient_id, m.organization_id, p_due), p_due);
  end if;
  return public.take_priority_zero(
    m.organization_id, goes_at, public.priority_zero_per_hour(), p_now) is not null;
end
$$;
comment on function public.take_message_priority_zero(public.scheduled_messages, timestamptz, timestamptz) is
  'One of the clinic''s priority-0 share for the hour message m goes in (due p_due); false: taken';
revoke all on function public.take_message_priority_zero(public.scheduled_messages, timestamptz, timestamptz)
  from public, anon;
grant execute on function public.take_message_priority_zero(public.scheduled_messages, timestamptz, timestamptz)
  to authenticated, medremind_app, service_role;

create function public.scheduled_messages_limits_of_clinician() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
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
  -- Due at its time, now at the earliest.
  if not public.take_message_priority_zero(
       new, greatest(coalesce(new.scheduled_time, now()), now()), now()) then
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
