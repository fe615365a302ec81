-- One invitation a week per clinic and person: a clinic that enters someone else's number for
-- several new records (or again and again) no longer sends that person an invitation each time.
-- Only the dedupe of invite_address_owner (20260101008100) changes: an open invitation of the
-- same clinic to the same person (unused, unexpired) holds the next one back; the request is
-- still kept and listed as a new address is.

create or replace function public.invite_address_owner(
  p_patient uuid, p_channel text, p_address text, p_at timestamptz, p_verified boolean
) returns boolean
  language plpgsql security definer set search_path = public, pg_temp as $$
-- A clinic's new record p_patient asked for (p_channel, p_address), which another patient owns.
-- The request is kept as an invitation (its address is listed with the record as an unverified
-- contact, as a new address is), and when the owner registered on their own (no clinic) they
-- are sent it, once a week per clinic: a one-time token, valid a week, that only the owner's chat can
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
        where i.organization_id = clinic.id and i.invitee_patient_id = owner.patient_id
          and i.id <> invite and i.used_at is null and i.expires_at > p_at) then
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
