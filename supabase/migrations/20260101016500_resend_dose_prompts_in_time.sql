-- A dose's reminder or follow-up is re-sent only while its dose is open and its time still holds
-- (public.resend_message, the dashboard's Re-send and POST /api/v1/messages/{id}/resend).
--
-- A re-send is due at once. A failed dose reminder re-sent hours later ("Time for your 8:00 AM
-- dose" at 19:00) tells the patient to take a dose whose time is long past, an hour before the
-- next one: a double dose. The copy also dropped the reminder's expiry once past, so the worker
-- sent it however late. The planner gives a reminder two hours (scheduler/planning_rules.py
-- REMINDER_TTL; the dispatcher's default for one without expires_at is scheduler/expiry.py
-- DEFAULT_EXPIRY: 2 hours, a follow-up 1): past that window the re-send is refused
-- ('too_late', with the window's end as status), and within it the copy keeps the window's end as
-- its expires_at. A dose already answered, missed or cancelled is refused too ('dose_closed', with
-- the dose's status): the worker would cancel the copy at once ("dose already taken").
-- The dashboard's Send now (make a pending message due now) holds a dose reminder to its dose's
-- time from the other side: not before it (dashboard/src/lib/send-now.ts).

create or replace function public.dose_prompt_window_end(m public.scheduled_messages)
  returns timestamptz language sql stable set search_path = public, pg_temp as $$
  -- When a dose's reminder or follow-up is too late to send (null: not a dose prompt). The
  -- fallbacks are scheduler/expiry.py DEFAULT_EXPIRY's (tests/integration/test_resend_dose_prompts.py).
  select case m.kind
           when 'medication_reminder' then coalesce(m.expires_at, m.scheduled_time + interval '2 hours')
           when 'dose_followup' then coalesce(m.expires_at, m.scheduled_time + interval '1 hour')
         end
$$;
revoke all on function public.dose_prompt_window_end(public.scheduled_messages) from public;
grant execute on function public.dose_prompt_window_end(public.scheduled_messages)
  to authenticated, medremind_app;

create or replace function public.resend_message(
  p_message uuid, p_organization uuid, p_actor text, p_at timestamptz default now()
) returns table (outcome text, message_id uuid, status text)
  language plpgsql security invoker set search_path = public, pg_temp as $$
declare
  failed_row scheduled_messages;
  copy_id uuid;
  copy_status text;
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
  perform set_config('medremind.actor', coalesce(p_actor, ''), true);
  insert into scheduled_messages
    (organization_id, patient_id, message_content, template, kind, payload, platform, priority,
     max_attempts, expires_at, urgent, allow_fallback, dose_event_id, appointment_id,
     caregiver_id, created_by, scheduled_time, resent_from)
  values
    (failed_row.organization_id, failed_row.patient_id, failed_row.message_content,
     failed_row.template, failed_row.kind, failed_row.payload, failed_row.platform,
     failed_row.priority, failed_row.max_attempts,
     -- A dose prompt keeps its window's end; any other expiry already past is dropped (the copy
     -- would expire unsent at once), one still ahead kept.
     coalesce(window_end, case when failed_row.expires_at > p_at then failed_row.expires_at end),
     failed_row.urgent, failed_row.allow_fallback, failed_row.dose_event_id,
     failed_row.appointment_id, failed_row.caregiver_id, auth.uid(), p_at, failed_row.id)
  returning id into copy_id;
  return query select 'resent'::text, copy_id, 'pending'::text;
end
$$;
