-- One person, one record: a self-registered patient who accepts a clinic's invitation is merged
-- into the clinic's record; an erased patient leaves the clinic a tombstone without personal data.
--
-- The design (issue 14 item 4, issue 15 item 7). A contact point (channel, address) belongs to
-- exactly one patient record, and a chat's conversation to the record that owns it, so inbound
-- always reaches one conversation. A clinic that registers an address someone else owns gets the
-- same answer as for a new address: its record is created without that contact point, and
-- the owner is sent an invitation (patient_invites, token hashed) to join that clinic; nothing
-- tells the clinic whether the address existed. The person decides in their own chat:
--   * a self-registered owner (no clinic) who accepts is merged into the clinic's record
--     (merge_patient below): contact points, medicines, schedules, dose history, caregivers,
--     conversations and messages move, their own settings win, and the old record is deleted;
--   * an owner who belongs to another clinic keeps that record and its chat; accepting is
--     refused with a clear text for now (one chat answers for one clinic's record at a time).
-- An erasure (the patient's /delete_me or the clinic's request) removes every row about the
-- person and keeps, for a clinic's record, only the patients row scrubbed to a tombstone:
-- status 'deleted', erased_at and erasure_reason, no name, no external id, no settings.

-- An invitation sent to the owner of an address (not a link the clinic hands out): only a chat of
-- that patient may accept it, so whoever else reads the message row cannot redeem it.
alter table patient_invites add column invitee_patient_id uuid references patients (id) on delete cascade;
-- The address the clinic entered and the invitation asks for: shown with the clinic's record as
-- an unverified contact, exactly as a new address is, until the owner accepts.
alter table patient_invites add column claimed_channel text
  check (claimed_channel in ('telegram', 'whatsapp', 'sms', 'email', 'console'));
alter table patient_invites add column claimed_address text
  check (claimed_address is null or length(claimed_address) <= 320);
alter table patient_invites add column claimed_verified boolean not null default false;
create index patient_invites_invitee_idx on patient_invites (invitee_patient_id)
  where invitee_patient_id is not null;

alter table patients add column erased_at timestamptz;
alter table patients add column erasure_reason text
  check (erasure_reason is null or length(erasure_reason) <= 200);

create function public.merge_patient(p_from uuid, p_into uuid, p_at timestamptz) returns void
  language plpgsql as $$
-- Merge record p_from (the person's own) into p_into (the clinic's record that invited them):
-- everything of p_from moves, the person's own choices win over the clinic's defaults, the
-- clinic keeps its name for the patient (when it gave one) and its external id, and consent is
-- the moment of the merge (the person just agreed to it). p_from is deleted.
declare
  src public.patients;
  dst public.patients;
begin
  if p_from = p_into then
    raise exception 'merge_patient: a record cannot be merged into itself'
      using errcode = 'invalid_parameter_value';
  end if;
  select * into src from public.patients where id = p_from for update;
  select * into dst from public.patients where id = p_into for update;
  if src.id is null or dst.id is null then
    raise exception 'merge_patient: unknown patient' using errcode = 'no_data_found';
  end if;
  if src.organization_id is not null then
    -- A clinic's record is that clinic's: merging it would hand its rows to another clinic.
    raise exception 'merge_patient: only a self-registered record can be merged'
      using errcode = 'invalid_parameter_value';
  end if;
  update public.contact_points set patient_id = p_into where patient_id = p_from;
  update public.caregivers set patient_id = p_into where patient_id = p_from;
  update public.medications set patient_id = p_into where patient_id = p_from;
  update public.reminder_schedules set patient_id = p_into where patient_id = p_from;
  update public.dose_events set patient_id = p_into where patient_id = p_from;
  update public.scheduled_messages
     set patient_id = p_into, organization_id = dst.organization_id
   where patient_id = p_from;
  update public.conversations set patient_id = p_into where patient_id = p_from;
  delete from public.patient_invites where patient_id = p_from;
  update public.patients p
     set display_name = coalesce(dst.display_name, src.display_name),
         locale = src.locale, timezone = src.timezone, timezone_mode = src.timezone_mode,
         home_timezone = src.home_timezone,
         quiet_start = src.quiet_start, quiet_end = src.quiet_end,
         channel_order = src.channel_order,
         name_medicine_in_reminders = src.name_medicine_in_reminders,
         nag_interval_minutes = src.nag_interval_minutes, nag_max = src.nag_max,
         reminders_paused = src.reminders_paused,
         wake_time = src.wake_time, breakfast_time = src.breakfast_time,
         lunch_time = src.lunch_time, dinner_time = src.dinner_time, sleep_time = src.sleep_time,
         consent_at = p_at, status = 'active'
   where p.id = p_into;
  delete from public.patients where id = p_from;
  -- The moved schedules are planned again for the merged record.
  update public.reminder_schedules set planned_until = null where patient_id = p_into;
end
$$;

create function public.erase_patient(p_patient uuid, p_reason text, p_at timestamptz)
  returns void language plpgsql as $$
-- Erase a patient: every row about them goes (contact points, caregivers, medicines with their
-- schedules and doses, appointments, messages with their attempts, invites, conversations'
-- link); a self-registered record is deleted outright, a clinic's record becomes a tombstone.
declare
  org uuid;
begin
  select organization_id into org from public.patients where id = p_patient for update;
  if not found then
    return;
  end if;
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

revoke all on function public.merge_patient(uuid, uuid, timestamptz) from public;
grant execute on function public.merge_patient(uuid, uuid, timestamptz) to medremind_app, service_role;
revoke all on function public.erase_patient(uuid, text, timestamptz) from public;
grant execute on function public.erase_patient(uuid, text, timestamptz) to medremind_app, service_role;

create function public.invite_address_owner(
  p_patient uuid, p_channel text, p_address text, p_at timestamptz, p_verified boolean
) returns boolean
  language plpgsql security definer set search_path = public, pg_temp as $$
-- A clinic's new record p_patient asked for (p_channel, p_address), which another patient owns.
-- The request is kept as an invitation (its address is listed with the record as an unverified
-- contact, as a new address is), and when the owner registered on their own (no clinic) they
-- are sent it, once per record: a one-time token, valid a week, that only the owner's chat can
-- redeem ("/start <token>"; accepting merges the two records). Returns whether a message was
-- sent; the caller answers the clinic the same either way. p_verified: what the caller would have
-- stored on a new contact point (the listing shows the same). SECURITY DEFINER: the clinic cannot
-- see the owner; a clinician may only name a patient of their own clinic.
declare
  owner record;
  clinic record;
  token text := replace(gen_random_uuid()::text, '-', '');
  invite uuid;
begin
  if auth.uid() is not null and not public.patient_in_my_organization(p_patient) then
    raise exception 'invite_address_owner: not a patient of your clinic'
      using errcode = 'insufficient_privilege';
  end if;
  select o.id, o.name into clinic
    from patients p join organizations o on o.id = p.organization_id
   where p.id = p_patient;
  select cp.patient_id, p.organization_id,
         (p.status = 'active' and p.consent_at is not null) as reachable
    into owner
    from contact_points cp join patients p on p.id = cp.patient_id
   where cp.channel = p_channel and cp.address = p_address;
  if clinic.id is null or owner.patient_id is null or owner.patient_id = p_patient then
    return false;
  end if;
  insert into patient_invites (organization_id, patient_id, token_hash, expires_at,
                               invitee_patient_id, claimed_channel, claimed_address,
                               claimed_verified)
  values (clinic.id, p_patient, encode(sha256(convert_to(token, 'UTF8')), 'hex'),
          p_at + interval '7 days', owner.patient_id, p_channel, p_address, p_verified)
  returning id into invite;
  if owner.organization_id is not null or not owner.reachable or exists (
       select from patient_invites i
        where i.patient_id = p_patient and i.invitee_patient_id = owner.patient_id
          and i.id <> invite) then
    return false;
  end if;
  insert into scheduled_messages (patient_id, scheduled_time, platform, kind, template, payload,
                                  priority, expires_at, idempotency_key)
  values (owner.patient_id, p_at, 'auto', 'system', 'join_invitation',
          jsonb_build_object('inviting_clinic', clinic.name, 'token', token),
          5, p_at + interval '7 days', 'join:' || invite);
  return true;
end
$$;
revoke all on function public.invite_address_owner(uuid, text, text, timestamptz, boolean) from public;
grant execute on function public.invite_address_owner(uuid, text, text, timestamptz, boolean)
  to medremind_app, service_role, authenticated;
