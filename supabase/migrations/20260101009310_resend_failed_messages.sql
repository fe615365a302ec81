-- Re-sending a failed message (issue 16, item 5: a dead-letter queue's first use), from the
-- dashboard (as the clinician, under row-level security) and from the API (the service role,
-- with the key's clinic).
--
-- A re-send is a new pending row, a copy of the failed one with resent_from = its id; the failed
-- row and its attempts stay as they were, so the delivery history (what failed, when, why) and
-- the statistics are kept, and the copy gets its own attempts, channel order and retries. At
-- most one copy per failed message (a unique index: two clicks, or the dashboard and the API at
-- once, make one); when the copy fails in turn, it is the one to re-send. No foreign key on
-- resent_from: retention (scheduler/retention.py) deletes old messages in batches without a
-- per-row check, and a copy whose original was deleted keeps the id it came from.

alter table public.scheduled_messages add column resent_from uuid;
create unique index scheduled_messages_resent_from_idx on public.scheduled_messages (resent_from)
  where resent_from is not null;
comment on column public.scheduled_messages.resent_from is
  'The failed message this one re-sends (public.resend_message); null for every other message';

-- A clinician's copy names a message of the same patient (rows may not point across clinics).
-- A function, since a policy on scheduled_messages that reads scheduled_messages recurses; it
-- says only whether the message is this patient's, and the policy asks it only for a patient of
-- the clinician's own clinic.
create function public.message_of_patient(p_message uuid, p_patient uuid) returns boolean
  language sql stable security definer set search_path = public, pg_temp as $$
  select exists (select 1 from public.scheduled_messages m
                  where m.id = p_message and m.patient_id = p_patient)
$$;
revoke all on function public.message_of_patient(uuid, uuid) from public;
grant execute on function public.message_of_patient(uuid, uuid) to authenticated;

alter policy scheduled_messages_clinician on public.scheduled_messages
  with check (organization_id = public.current_organization_id()
              and public.patient_in_my_organization(patient_id)
              and (caregiver_id is null or exists (
                    select 1 from caregivers c
                     where c.id = caregiver_id and c.patient_id = scheduled_messages.patient_id))
              and (dose_event_id is null or exists (
                    select 1 from dose_events d
                     where d.id = dose_event_id and d.patient_id = scheduled_messages.patient_id))
              and (appointment_id is null or exists (
                    select 1 from appointments a
                     where a.id = appointment_id and a.patient_id = scheduled_messages.patient_id))
              and (resent_from is null
                   or public.message_of_patient(resent_from, scheduled_messages.patient_id)));

-- Every re-send is audited, however the row was inserted: by this trigger (security definer,
-- since clinicians may only read audit_log). The actor is the signed-in clinician, else what
-- the caller of resend_message named (the API: 'api').
create function public.audit_message_resend() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  insert into audit_log (organization_id, actor, action, entity, entity_id, details)
  values (
    new.organization_id,
    case when auth.uid() is not null then 'clinician:' || auth.uid()::text
         else coalesce(nullif(current_setting('medremind.actor', true), ''), 'service') end,
    'message.resend', 'scheduled_message', new.id::text,
    jsonb_build_object('resent_from', new.resent_from));
  return null;
end
$$;
revoke all on function public.audit_message_resend() from public;
create trigger scheduled_messages_audit_resend after insert on public.scheduled_messages
  for each row when (new.resent_from is not null)
  execute function public.audit_message_resend();

-- Re-send a failed message of clinic p_organization (null: the signed-in clinician's), due at
-- p_at. Security invoker: row-level security decides what the caller may read and insert (a
-- clinician: their clinic's rows only). Outcomes:
--   resent          the copy (message_id) is pending
--   already_resent  the message was re-sent before: its copy (message_id, status)
--   not_failed      only a failed message can be re-sent; status says what it is
--   patient_erased  the patient's data was erased: nothing is sent to them any more
--   not_found       no such message in the clinic
-- An expiry already past is dropped from the copy (it would expire unsent at once); one still
-- ahead is kept.
create function public.resend_message(
  p_message uuid, p_organization uuid, p_actor text, p_at timestamptz default now()
) returns table (outcome text, message_id uuid, status text)
  language plpgsql security invoker set search_path = public, pg_temp as $$
declare
  failed_row scheduled_messages;
  copy_id uuid;
  copy_status text;
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
  perform set_config('medremind.actor', coalesce(p_actor, ''), true);
  insert into scheduled_messages
    (organization_id, patient_id, message_content, template, kind, payload, platform, priority,
     max_attempts, expires_at, urgent, allow_fallback, dose_event_id, appointment_id,
     caregiver_id, created_by, scheduled_time, resent_from)
  values
    (failed_row.organization_id, failed_row.patient_id, failed_row.message_content,
     failed_row.template, failed_row.kind, failed_row.payload, failed_row.platform,
     failed_row.priority, failed_row.max_attempts,
     case when failed_row.expires_at > p_at then failed_row.expires_at end,
     failed_row.urgent, failed_row.allow_fallback, failed_row.dose_event_id,
     failed_row.appointment_id, failed_row.caregiver_id, auth.uid(), p_at, failed_row.id)
  returning id into copy_id;
  return query select 'resent'::text, copy_id, 'pending'::text;
end
$$;
revoke all on function public.resend_message(uuid, uuid, text, timestamptz) from public;
grant execute on function public.resend_message(uuid, uuid, text, timestamptz)
  to authenticated, medremind_app;
