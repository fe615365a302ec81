-- A caregiver alert under way when the dose is answered Taken is followed by its update.
--
-- 20260101018180 plans a caregiver_dose_update when a dose becomes taken, for each
-- missed_dose_caregiver alert already sent or delivered; a pending alert is withdrawn instead
-- (record_final_dose_answer, the dispatcher's gate just before the send). One alert was in
-- neither state: claimed, past the gate, at the provider (status processing) when the patient
-- answered. It went out ("Ana has not confirmed...") and no update followed: the caregiver read
-- only the miss, the case the update exists for (found in session 31; the test is
-- tests/web/test_caregiver_dose_update.py, "under way"). Now the alert's own change to sent or
-- delivered plans the update when its dose is taken by then. Whichever of the two comes second
-- plans it; when both see the other (an answer and a record at once), the idempotency key
-- (caregiver_update:<dose>:<caregiver>) keeps it to one.
--
-- The planning itself moves into plan_caregiver_dose_update_rows (the same insert as 018180's,
-- for one dose and, from the alert's side, that alert only), so the two triggers cannot drift.

create function public.plan_caregiver_dose_update_rows(p_dose public.dose_events, p_alert uuid)
  returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  answered timestamptz := coalesce(p_dose.answered_at, now());
begin
  insert into public.scheduled_messages
    (organization_id, patient_id, caregiver_id, scheduled_time, platform, kind, payload,
     priority, expires_at, idempotency_key, dose_event_id, allow_fallback)
  select a.organization_id, a.patient_id, c.id, answered, c.channel, 'caregiver_dose_update',
         jsonb_build_object('dose_event_id', p_dose.id,
                            'share_details', coalesce((a.payload ->> 'share_details')::boolean,
                                                      false),
                            'local_date', p_dose.local_date, 'local_time', p_dose.local_time,
                            'answered_at', answered)
           || case when (a.payload ->> 'share_details')::boolean
                   then jsonb_build_object('medication_id', p_dose.medication_id)
                   else '{}'::jsonb end
           || case when a.payload ? 'medicine_number'
                   then jsonb_build_object('medicine_number', a.payload -> 'medicine_number')
                   else '{}'::jsonb end,
         a.priority, answered + public.message_default_expiry('caregiver_dose_update'),
         format('caregiver_update:%s:%s', p_dose.id, c.id), p_dose.id, false
    from public.scheduled_messages a
    join public.caregivers c on c.id = a.caregiver_id and c.active
                            and c.opted_out_at is null and c.blocked_at is null
                            and c.awaiting_link_since is null
   where a.dose_event_id = p_dose.id and a.kind = 'missed_dose_caregiver' and a.template is null
     and a.status in ('sent', 'delivered')
     and (p_alert is null or a.id = p_alert)
  on conflict (idempotency_key) do nothing;
end
$$;
revoke all on function public.plan_caregiver_dose_update_rows(public.dose_events, uuid)
  from public, anon, authenticated;

-- As 20260101018180's, through the shared insert.
create or replace function public.plan_caregiver_dose_updates() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.plan_caregiver_dose_update_rows(new, null);
  return null;
end
$$;

-- The alert's side: it is now sent (or delivered, a provider's callback outrunning the record);
-- its dose taken already means the answer came while it was under way.
create function public.plan_caregiver_update_after_alert() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  dose public.dose_events;
begin
  select * into dose from public.dose_events where id = new.dose_event_id and status = 'taken';
  if found then
    perform public.plan_caregiver_dose_update_rows(dose, new.id);
  end if;
  return null;
end
$$;
revoke all on function public.plan_caregiver_update_after_alert() from public, anon, authenticated;

-- Only an alert's first change to sent or delivered fires it: every other message's record
-- (reminders by the hundred thousand at 08:00) costs the WHEN's comparison, nothing more.
create trigger scheduled_messages_caregiver_update_after_alert
  after update of status on scheduled_messages
  for each row when (new.kind = 'missed_dose_caregiver' and new.dose_event_id is not null
                     and new.status in ('sent', 'delivered')
                     and old.status not in ('sent', 'delivered'))
  execute function public.plan_caregiver_update_after_alert();
