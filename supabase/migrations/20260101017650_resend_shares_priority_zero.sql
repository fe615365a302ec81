-- A re-send takes its priority 0 from the clinic's hourly share, as POST /api/v1/messages does
-- (medremind/web/api_v1/priority_share.py, migration 20260101017450).
--
-- public.resend_message copied the failed message's priority: a clinic whose priority-0 messages
-- failed (wrong numbers, a blocked bot) re-sent them at priority 0 through the dashboard or
-- POST /api/v1/messages/{id}/resend without counting them, and a copy that failed again could
-- be re-sent again, ahead of every clinic's dose reminders. A copy of a priority-0 message now
-- takes one of the clinic's priority-0 messages for the hour (UTC) it goes in (now, or the end
-- of the patient's quiet hours holding it); past the share the copy is made all the same, at
-- the default priority (5). A dose's reminder or follow-up keeps its priority uncounted: the
-- planner gave it (a time-critical medicine's), not the clinic, and its copy can only go within
-- its dose's window (migration 20260101016500).
--
-- 1. The share is the web process's MEDREMIND_API_PRIORITY_ZERO_PER_HOUR, which the dashboard
--    never read: `medremind web` and `medremind worker` now publish it in service_limits at
--    start beside the SMS limit (core/service_limits.py; the last process to start wins). The
--    column's default is the setting's default, for a database no process has started on yet.
-- 2. The grant itself is one function, public.take_priority_zero, which the API's create calls
--    too (core/sql/message_warnings.sql): one statement for every way a priority-0 message is
--    made by a clinic. The dashboard's re-send runs as the clinician: the function runs as its
--    owner and counts only the signed-in clinician's own clinic. Clinicians get no grant on
--    api_priority_zero_hours itself: one who could write it could delete the clinic's counts and
--    so its share (and a row could name another clinic).
-- 3. public.patient_quiet_end: when the quiet window holding an instant ends, as the dispatcher
--    defers a message (scheduler/quiet_hours.py quiet_window_end, the reference of
--    tests/integration/test_patient_quiet_end.py). The window it and public.patient_quiet_at
--    read is one function's, public.patient_quiet_window.

alter table public.service_limits
  add column api_priority_zero_per_hour integer not null default 100
    check (api_priority_zero_per_hour between 0 and 100000);
comment on column public.service_limits.api_priority_zero_per_hour is
  'MEDREMIND_API_PRIORITY_ZERO_PER_HOUR of the last process to start: priority-0 messages per clinic per hour';

create function public.take_priority_zero(
  p_organization uuid, p_goes_at timestamptz, p_per_hour integer, p_now timestamptz
) returns integer language sql volatile security definer set search_path = public, pg_temp as $$
  -- One of the clinic's priority-0 messages in the clock hour (UTC) of p_goes_at, granted while
  -- the hour holds fewer than p_per_hour (the row's lock serializes processes granting at once).
  -- The hour's count: granted; null: the hour's share is taken. Hours more than a day before
  -- p_now are the clinic's no longer: removed on the way. A signed-in clinician counts only
  -- their own clinic's (another's: null, nothing written); the API's role has no clinician.
  with gone as (
    delete from api_priority_zero_hours
     where organization_id = p_organization and hour < p_now - interval '1 day'
       and p_organization = coalesce(public.current_organization_id(), p_organization)
  )
  insert into api_priority_zero_hours as q (organization_id, hour, messages)
  select p_organization, date_trunc('hour', p_goes_at, 'UTC'), 1
   where p_per_hour > 0
     and p_organization = coalesce(public.current_organization_id(), p_organization)
  on conflict (organization_id, hour) do update set messages = q.messages + 1
   where q.messages < p_per_hour
  returning q.messages
$$;
comment on function public.take_priority_zero(uuid, timestamptz, integer, timestamptz) is
  'One of a clinic''s priority-0 messages for the hour of p_goes_at: the count, or null when taken';
revoke all on function public.take_priority_zero(uuid, timestamptz, integer, timestamptz)
  from public, anon;
grant execute on function public.take_priority_zero(uuid, timestamptz, integer, timestamptz)
  to authenticated, medremind_app, service_role;

-- The window a patient's messages wait out (own when both ends are set, else the clinic's default)
-- and their zone, in one place for public.patient_quiet_at and public.patient_quiet_end.
create function public.patient_quiet_window(
  p_patient uuid, p_organization uuid, out zone text, out w_start time, out w_end time
) language sql stable set search_path = public, pg_temp as $$
  select p.timezone,
         case when p.quiet_start is not null and p.quiet_end is not null then p.quiet_start
              else o.default_quiet_start end,
         case when p.quiet_start is not null and p.quiet_end is not null then p.quiet_end
              else o.default_quiet_end end
    from patients p join organizations o on o.id = p.organization_id
   where p.id = p_patient and p.organization_id = p_organization and p.status <> 'deleted'
$$;
revoke all on function public.patient_quiet_window(uuid, uuid) from public, anon;
grant execute on function public.patient_quiet_window(uuid, uuid)
  to authenticated, medremind_app, service_role;

create or replace function public.patient_quiet_at(
  p_patient uuid, p_organization uuid, p_at timestamptz
) returns boolean language plpgsql stable set search_path = public, pg_temp as $$
declare
  w record;
  local_time time;
begin
  select * into w from public.patient_quiet_window(p_patient, p_organization);
  if w.zone is null then
    return null;
  end if;
  if w.w_start = w.w_end then
    return false;
  end if;
  begin
    local_time := (p_at at time zone w.zone)::time;
  exception when invalid_parameter_value then
    return null;
  end;
  if w.w_start < w.w_end then
    return local_time >= w.w_start and local_time < w.w_end;
  end if;
  return local_time >= w.w_start or local_time < w.w_end;
end
$$;

create function public.patient_quiet_end(p_patient uuid, p_organization uuid, p_at timestamptz)
  returns timestamptz language plpgsql stable set search_path = public, pg_temp as $$
  -- The end of the patient's quiet window when it holds p_at; null outside it, for an unknown
  -- zone and for no such patient. An end the clocks skip is read forward, an end they repeat is
  -- its first occurrence still ahead (scheduler/quiet_hours.py quiet_window_end).
declare
  w record;
  local_at timestamp;
  day date;
  ends timestamptz;
begin
  if not coalesce(public.patient_quiet_at(p_patient, p_organization, p_at), false) then
    return null;
  end if;
  select * into w from public.patient_quiet_window(p_patient, p_organization);
  local_at := p_at at time zone w.zone;
  day := local_at::date;
  if w.w_start > w.w_end and local_at::time >= w.w_start then
    day := day + 1;  -- the evening part of a window that crosses midnight
  end if;
  ends := public.wall_time_instant(day + w.w_end, w.zone);
  if ends <= p_at then
    ends := (day + w.w_end) at time zone w.zone;  -- the repeated hour's second occurrence
  end if;
  return case when ends > p_at then ends end;
end
$$;
comment on function public.patient_quiet_end(uuid, uuid, timestamptz) is
  'When the patient''s quiet window holding p_at ends (null: none holds it); RLS applies';
revoke all on function public.patient_quiet_end(uuid, uuid, timestamptz) from public, anon;
grant execute on function public.patient_quiet_end(uuid, uuid, timestamptz)
  to authenticated, medremind_app, service_role;

create or replace function public.resend_message(
  p_message uuid, p_organization uuid, p_actor text, p_at timestamptz default now()
) returns table (outcome text, message_id uuid, status text)
  language plpgsql security invoker set search_path = public, pg_temp as $$
declare
  failed_row scheduled_messages;
  copy_id uuid;
  copy_status text;
  copy_priority smallint;
  goes_at timestamptz;
  dose_status text;
  window_end timestamptz;
begin
  select * into failed_row from scheduled_messages m
   where m.id = p_message
     and m.organization_id = coalesce(p_organization, public.current_organization_id())
     for update;
  if not found then
    return query select 'not_found'::text, null::uuid, null::text;
    return;
  end if;
  select r.id, r.status into copy_id, copy_status
    from scheduled_messages r where r.resent_from = failed_row.id;
  if found then
    return query select 'already_resent'::text, copy_id, copy_status;
    return;
  end if;
  if failed_row.status <> 'failed' then
    return query select 'not_failed'::text, failed_row.id, failed_row.status;
    return;
  end if;
  if exists (select 1 from patients p where p.id = failed_row.patient_id and p.status = 'deleted')
  then
    return query select 'patient_erased'::text, failed_row.id, failed_row.status;
    return;
  end if;
  window_end := public.dose_prompt_window_end(failed_row);
  if window_end is not null and failed_row.dose_event_id is not null then
    select d.status into dose_status from dose_events d where d.id = failed_row.dose_event_id;
    if dose_status is not null and dose_status not in ('due', 'snoozed') then
      return query select 'dose_closed'::text, failed_row.id, dose_status;
      return;
    end if;
  end if;
  if window_end is not null and window_end <= p_at then
    return query select 'too_late'::text, failed_row.id,
      to_char(window_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
    return;
  end if;
  copy_priority := failed_row.priority;
  if copy_priority = 0 and window_end is null then
    -- The copy is due now; a message quiet hours hold goes when they end (the dispatcher's
    -- deferral: not urgent, not an appointment's, not a caregiver's, whose window is their own).
    goes_at := p_at;
    if not failed_row.urgent and failed_row.caregiver_id is null
       and failed_row.kind not in ('appointment_confirmation', 'appointment_reminder',
                                   'appointment_rescheduled', 'appointment_cancelled') then
      goes_at := coalesce(
        public.patient_quiet_end(failed_row.patient_id, failed_row.organization_id, p_at), p_at);
    end if;
    if public.take_priority_zero(
         failed_row.organization_id, goes_at,
         coalesce((select l.api_priority_zero_per_hour from service_limits l), 100), p_at) is null
    then
      copy_priority := 5;  -- the API's default priority (priority_share.DEFAULT_PRIORITY)
    end if;
  end if;
  perform set_config('medremind.actor', coalesce(p_actor, ''), true);
  insert into scheduled_messages
    (organization_id, patient_id, message_content, template, kind, payload, platform, priority,
     max_attempts, expires_at, urgent, allow_fallback, dose_event_id, appointment_id,
     caregiver_id, created_by, scheduled_time, resent_from)
  values
    (failed_row.organization_id, failed_row.patient_id, failed_row.message_content,
     failed_row.template, failed_row.kind, failed_row.payload, failed_row.platform,
     copy_priority, failed_row.max_attempts,
     -- A dose prompt keeps its window's end; any other expiry already past is dropped (the copy
     -- would expire unsent at once), one still ahead kept.
     coalesce(window_end, case when failed_row.expires_at > p_at then failed_row.expires_at end),
     failed_row.urgent, failed_row.allow_fallback, failed_row.dose_event_id,
     failed_row.appointment_id, failed_row.caregiver_id, auth.uid(), p_at, failed_row.id)
  returning id into copy_id;
  return query select 'resent'::text, copy_id, 'pending'::text;
end
$$;
