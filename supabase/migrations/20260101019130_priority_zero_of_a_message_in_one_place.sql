-- When a priority-0 message goes, and so which hour of the clinic's priority-0 share it takes, in
-- one place: public.take_message_priority_zero (migration 20260101019120), which the trigger on
-- the dashboard's own rows uses and now public.resend_message (migration 20260101017650) too. It
-- reckoned it in a copy of its own (its time, or the end of the quiet hours holding it unless it
-- is urgent, an appointment's or a caregiver's); a change to the dispatcher's deferral made in
-- one would have left the other counting the wrong hour. Behaviour unchanged:
-- tests/integration/test_resend_message.py, tests/web/test_resend_priority_share.py and
-- tests/integration/test_priority_zero_hours_clinician.py hold it.

create or replace function public.resend_message(
  p_message uuid, p_organization uuid, p_actor text, p_at timestamptz default now()
) returns table (outcome text, message_id uuid, status text)
  language plpgsql security invoker set search_path = public, pg_temp as $$
declare
  failed_row scheduled_messages;
  copy_id uuid;
  copy_status text;
  copy_priority smallint;
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
  -- The copy is due now; past the hour's share it goes at the API's default priority
  -- (priority_share.DEFAULT_PRIORITY). A dose prompt keeps the planner's priority, uncounted.
  if copy_priority = 0 and window_end is null
     and not public.take_message_priority_zero(failed_row, p_at, p_at) then
    copy_priority := 5;
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
