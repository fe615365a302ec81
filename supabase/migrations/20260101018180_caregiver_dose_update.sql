-- A caregiver told that a dose was missed is told when the patient then takes it.
--
-- A caregiver who read "Maria has not confirmed the 8:00 AM dose" (missed_dose_caregiver) heard
-- nothing when Maria answered Taken late (a late answer is recorded up to 12 hours after the
-- miss): they might call her, or give her the pill again, a double dose. Now, when a dose becomes
-- taken, each caregiver whose alert about it went out (sent or delivered) gets one short update,
-- kind caregiver_dose_update: "Update: Maria has now taken her 8:00 AM dose (answered at
-- 10:40 AM)". An alert still pending is withdrawn by the answer instead (record_final_dose_answer
-- cancels it, the dispatcher's gate catches one claimed meanwhile), one cancelled or never sent
-- gets no update: there is nothing to correct. A patient-unreachable notice (template
-- patient_unreachable_caregiver) is about no dose and gets none.
--
-- The update is planned by a trigger on dose_events, so every path that records Taken (the bot's
-- turn, the one-statement button turn, the patient app) plans it, in the answer's transaction.
-- Like the alert: once per dose and caregiver (the idempotency key, so a second answer or a
-- retried turn plans no second update), to the caregiver's channel, the medicine named only
-- where the alert's payload allowed it (share_details; scheduler/rendering.py also requires the
-- caregiver's current share_details), its medicine number as the alert's, none to a caregiver
-- who opted out, was removed, is blocked or still awaits its link. Its category is the alert's
-- (medication: the patient's opt-out of it holds it), its expiry short (6 hours after the
-- answer, the alert's own window): after that the caregiver has long acted or slept on it.

alter table scheduled_messages drop constraint scheduled_messages_kind_check;
alter table scheduled_messages add constraint scheduled_messages_kind_check check (kind in (
  'medication_reminder', 'dose_followup', 'missed_dose_caregiver', 'caregiver_dose_update',
  'appointment_confirmation', 'appointment_reminder', 'appointment_cancelled',
  'appointment_rescheduled', 'refill_reminder', 'free_text', 'system'));

alter table message_templates drop constraint message_templates_automatic_kind;
alter table message_templates add constraint message_templates_automatic_kind check (
  not automatic or kind in (
    'medication_reminder', 'dose_followup', 'refill_reminder', 'missed_dose_caregiver',
    'caregiver_dose_update', 'appointment_confirmation', 'appointment_reminder',
    'appointment_rescheduled', 'appointment_cancelled'));

-- As 20260101009730, with the update in the alert's category.
create or replace function public.message_category(p_kind text, p_payload jsonb) returns text
  language sql immutable parallel safe as $$
  select case
    when p_kind in ('medication_reminder', 'dose_followup', 'refill_reminder',
                    'missed_dose_caregiver', 'caregiver_dose_update') then 'medication'
    when p_kind in ('appointment_reminder', 'appointment_confirmation') then 'appointments'
    when p_kind = 'free_text'
         and (p_payload ->> 'category' = 'clinic_news' or p_payload ->> 'group' = 'true')
      then 'clinic_news'
  end
$$;

-- As 20260101017940, with the update's default (scheduler/expiry.py DEFAULT_EXPIRY).
create or replace function public.message_default_expiry(p_kind text) returns interval
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  select case p_kind
           when 'medication_reminder' then interval '2 hours'
           when 'dose_followup' then interval '1 hour'
           when 'missed_dose_caregiver' then interval '6 hours'
           when 'caregiver_dose_update' then interval '6 hours'
           when 'refill_reminder' then interval '2 days'
           else interval '24 hours'
         end
$$;

create function public.plan_caregiver_dose_updates() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  answered timestamptz := coalesce(new.answered_at, now());
begin
  -- Whoever recorded the answer (a clinician through Supabase too) plans the update: security
  -- definer, as the alert's own rows are written by the planner.
  insert into public.scheduled_messages
    (organization_id, patient_id, caregiver_id, scheduled_time, platform, kind, payload,
     priority, expires_at, idempotency_key, dose_event_id, allow_fallback)
  select a.organization_id, a.patient_id, c.id, answered, c.channel, 'caregiver_dose_update',
         jsonb_build_object('dose_event_id', new.id,
                            'share_details', coalesce((a.payload ->> 'share_details')::boolean,
                                                      false),
                            'local_date', new.local_date, 'local_time', new.local_time,
                            'answered_at', answered)
           || case when (a.payload ->> 'share_details')::boolean
                   then jsonb_build_object('medication_id', new.medication_id)
                   else '{}'::jsonb end
           || case when a.payload ? 'medicine_number'
                   then jsonb_build_object('medicine_number', a.payload -> 'medicine_number')
                   else '{}'::jsonb end,
         a.priority, answered + public.message_default_expiry('caregiver_dose_update'),
         format('caregiver_update:%s:%s', new.id, c.id), new.id, false
    from public.scheduled_messages a
    join public.caregivers c on c.id = a.caregiver_id and c.active
                            and c.opted_out_at is null and c.blocked_at is null
                            and c.awaiting_link_since is null
   where a.dose_event_id = new.id and a.kind = 'missed_dose_caregiver' and a.template is null
     and a.status in ('sent', 'delivered')
  on conflict (idempotency_key) do nothing;
  return null;
end
$$;
revoke all on function public.plan_caregiver_dose_updates() from public, anon, authenticated;

-- Only a change to taken: every other answer (and every other update of a dose) costs nothing.
create trigger dose_events_plan_caregiver_updates
  after update of status on dose_events
  for each row when (new.status = 'taken' and old.status is distinct from 'taken')
  execute function public.plan_caregiver_dose_updates();
