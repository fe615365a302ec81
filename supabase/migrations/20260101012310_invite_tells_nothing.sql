-- A clinician's call of invite_address_owner no longer tells whether an address is someone
-- else's. It returned true when the address's owner had registered on their own (an invitation
-- was sent), and it kept an invitation row only when the address had an owner, with the owner's
-- patient id in invitee_patient_id, which clinicians could read: calling it through PostgREST with
-- any e-mail address or number told whether it was taken (and by a patient of another clinic or
-- of none). Now the request is kept the same way whoever owns the address (or nobody), the
-- function answers true whatever happened, and clinicians cannot read invitee_patient_id (the
-- bot and the service role, which redeem and send invitations, still do).

create or replace function public.invite_address_owner(
  p_patient uuid, p_channel text, p_address text, p_at timestamptz, p_verified boolean
) returns boolean
  language plpgsql security definer set search_path = public, pg_temp as $$
-- A clinic's record p_patient asked for (p_channel, p_address), which another patient may own.
-- The request is kept as an invitation (its address is listed with the record as an unverified
-- contact, as a new address is), and when the owner registered on their own (no clinic) they
-- are sent it, once a week per clinic: a one-time token, valid a week, that only the owner's chat
-- can redeem ("/start <token>"; accepting merges the two records). Always answers true: the
-- caller, and the clinic, learn nothing of the owner. p_verified: what the caller would have
-- stored on a new contact point. SECURITY DEFINER: the clinic cannot see the owner; a clinician
-- may only name a patient of their own clinic.
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
   where p.id = p_patient and p.status <> 'deleted';
  if clinic.id is null then
    return true;
  end if;
  select cp.patient_id, p.organization_id,
         (p.status = 'active' and p.consent_at is not null) as reachable
    into owner
    from contact_points cp join patients p on p.id = cp.patient_id
   where cp.channel = p_channel and cp.address = p_address;
  if owner.patient_id = p_patient then
    return true;  -- the record's own address already: listed as it is
  end if;
  -- Kept alike with or without an owner; a request already kept is not kept twice.
  if not exists (
       select from patient_invites i
        where i.patient_id = p_patient and i.claimed_channel = p_channel
          and i.claimed_address = p_address and i.used_at is null and i.expires_at > p_at) then
    insert into patient_invites (organization_id, patient_id, token_hash, expires_at,
                                 invitee_patient_id, claimed_channel, claimed_address,
                                 claimed_verified)
    values (clinic.id, p_patient, encode(sha256(convert_to(token, 'UTF8')), 'hex'),
            p_at + interval '7 days', owner.patient_id, p_channel, p_address, p_verified)
    returning id into invite;
  end if;
  if invite is null or owner.patient_id is null or owner.organization_id is not null
     or not owner.reachable or exists (
       select from patient_invites i
        where i.organization_id = clinic.id and i.invitee_patient_id = owner.patient_id
          and i.id <> invite and i.used_at is null and i.expires_at > p_at) then
    return true;
  end if;
  insert into scheduled_messages (patient_id, scheduled_time, platform, kind, template, payload,
                                  priority, expires_at, idempotency_key)
  values (owner.patient_id, p_at, 'auto', 'system', 'join_invitation',
          jsonb_build_object('inviting_clinic', clinic.name, 'token', token),
          5, p_at + interval '7 days', 'join:' || invite);
  return true;
end
$$;
-- Clinicians read every column of their invitations but the owner's id.
revoke select on public.patient_invites from authenticated;
grant select (id, organization_id, patient_id, token_hash, expires_at, used_at, created_at,
              claimed_channel, claimed_address, claimed_verified)
  on public.patient_invites to authenticated;
-- Nor set it: an update that names it would read it (and only the service sets it).
revoke update on public.patient_invites from authenticated;
grant update (organization_id, patient_id, token_hash, expires_at, used_at, claimed_channel,
              claimed_address, claimed_verified)
  on public.patient_invites to authenticated;
