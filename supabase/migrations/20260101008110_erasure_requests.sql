-- Erasure requests from a clinic (API DELETE /api/v1/patients/{id}, the dashboard's button), and
-- erasure forgetting the stored inbound texts of the person's chats.
--
-- erase_patient (20260101008100) now also deletes the inbound updates stored for the patient's
-- contact points (their texts are personal data); an update still being processed is left to its
-- turn, which empties or finishes it. request_erasure is the clinicians' way in: SECURITY DEFINER,
-- because an erasure touches rows no clinician may write (conversations, inbound updates), and
-- it erases only a patient of the caller's own clinic.

create or replace function public.erase_patient(p_patient uuid, p_reason text, p_at timestamptz)
  returns void language plpgsql as $$
declare
  org uuid;
begin
  select organization_id into org from public.patients where id = p_patient for update;
  if not found then
    return;
  end if;
  delete from public.inbound_messages i
   using public.contact_points c
   where c.patient_id = p_patient and i.channel = c.channel and i.chat_address = c.address
     and i.status <> 'received';
  update public.conversations set patient_id = null, step = 'idle', state = '{}'::jsonb
   where patient_id = p_patient;
  if org is null then
    delete from public.patients where id = p_patient;
    return;
  end if;
  delete from public.scheduled_messages where patient_id = p_patient;
  delete from public.appointments where patient_id = p_patient;
  delete from public.dose_events where patient_id = p_patient;
  delete from public.reminder_schedules where patient_id = p_patient;
  delete from public.medications where patient_id = p_patient;
  delete from public.caregivers where patient_id = p_patient;
  delete from public.contact_points where patient_id = p_patient;
  delete from public.patient_invites where patient_id = p_patient;
  update public.patients
     set display_name = null, external_id = null, status = 'deleted', consent_at = null,
         reminders_paused = false, quiet_start = null, quiet_end = null, home_timezone = null,
         locale = 'en', timezone = 'UTC', channel_order = '{}',
         erased_at = p_at, erasure_reason = p_reason
   where id = p_patient;
end
$$;

create function public.request_erasure(p_patient uuid) returns boolean
  language plpgsql security definer set search_path = public, pg_temp as $$
-- A clinician's erasure request: the patient must be of the caller's clinic and not erased yet.
-- Returns whether anything was erased. Audited as the clinician.
declare
  org uuid := public.current_organization_id();
begin
  if org is null or not exists (
       select from patients where id = p_patient and organization_id = org and status <> 'deleted')
  then
    return false;
  end if;
  perform public.erase_patient(p_patient, 'deleted at the clinic''s request', now());
  insert into audit_log (organization_id, actor, action, entity, entity_id)
  values (org, 'clinician:' || auth.uid(), 'patient.erased', 'patient', p_patient::text);
  return true;
end
$$;
revoke all on function public.request_erasure(uuid) from public;
grant execute on function public.request_erasure(uuid) to authenticated, service_role;
