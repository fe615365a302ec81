-- A dose whose reminder could not reach an unreachable patient stays 'unreachable' when they come
-- back (docs/preferences.md "When no channel can reach the patient").
--
-- The planner records such a dose 'unreachable' at its next pass while the patient is
-- unreachable (planner.sql mark_unreachable). When no pass ran between the failure and the
-- patient's return (START, writing to the bot after unblocking it, a fixed contact point), the
-- dose was still 'due' with a failed reminder: the first pass after the return found a
-- reachable patient whose dose was past its missed mark, marked it missed and alerted the
-- caregiver about a reminder nobody got (a START more than an hour after a refused 08:00
-- reminder was enough).
--
-- Now the flip back records what that pass would have: the open doses (due or snoozed) whose
-- latest reminder did not go out and never will (failed, expired, cancelled) become
-- 'unreachable' and whatever is still pending for them is cancelled, as mark_unreachable does.
-- A reminder still pending or in flight is left alone: it can go now. The function is
-- otherwise 20260101013600's.

create or replace function public.refresh_patient_reachability(p_patients uuid[]) returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  with states as (
    select p.id, p.unreachable_since is null as was_reachable, p.linked_at is not null as linked,
           public.patient_reachable(p.id) as reachable
      from patients p
     where p.id = any(p_patients) and p.status <> 'deleted'
       for update of p
  ), flipped as (
    update patients p
       set unreachable_since = case when s.reachable then null else now() end,
           unreachable_notice_pending = not s.reachable,
           linked_at = coalesce(p.linked_at, now())
      from states s
     where p.id = s.id
       and (s.reachable and not s.linked or s.linked and s.was_reachable <> s.reachable)
    returning p.id, p.unreachable_since
  ), replan as (
    update reminder_schedules s set planned_until = null
      from flipped f
     where s.patient_id = f.id and s.planned_until is not null
  ), unreached as (
    -- Back: the doses the spell kept from their reminder are not missed (see above).
    update dose_events d
       set status = 'unreachable'
      from flipped f
     where f.unreachable_since is null and d.patient_id = f.id
       and d.status in ('due', 'snoozed')
       and (select m.status from scheduled_messages m
             where m.dose_event_id = d.id and m.kind = 'medication_reminder'
             order by m.scheduled_time desc, m.created_at desc
             limit 1) in ('failed', 'expired', 'cancelled')
    returning d.id
  ), unreached_messages as (
    update scheduled_messages m
       set status = 'cancelled', last_error = 'the patient cannot be reached'
      from unreached u
     where m.dose_event_id = u.id and m.status = 'pending'
  )
  -- Back before the notice went out: it is not sent.
  update scheduled_messages m
     set status = 'cancelled', last_error = 'the patient can be reached again'
    from flipped f
   where f.unreachable_since is null and m.patient_id = f.id and m.status = 'pending'
     and m.kind = 'missed_dose_caregiver' and m.template = 'patient_unreachable_caregiver';
end
$$;
revoke all on function public.refresh_patient_reachability(uuid[])
  from public, anon, authenticated;
