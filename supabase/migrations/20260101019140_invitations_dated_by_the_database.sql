-- A clinician's invitation to an address's owner is dated by the database's clock.
--
-- public.invite_address_owner (migration 20260101012310) took the instant to date it from its
-- caller, and the dashboard's role could call it through PostgREST (/rest/v1/rpc) with any: an
-- invitation dated years back expired at once (the owner's invitation message too), one dated
-- years ahead stayed redeemable for years instead of a week, and its message waited that long.
-- The signed-in caller now has the form without a time, which dates it now(); the form with a
-- time stays the service's (the API's POST /api/v1/patients dates it by the web process's clock,
-- which tests inject), and is no longer the dashboard role's.
-- tests/integration/test_address_owner_invites.py.

create function public.invite_address_owner(
  p_patient uuid, p_channel text, p_address text, p_verified boolean
) returns boolean
  language sql volatile security definer set search_path = public, pg_temp as $$
  -- SECURITY DEFINER to call the service's form, which signed-in callers may not; the caller's
  -- claims still hold there (a clinician may only name a patient of their own clinic).
  select public.invite_address_owner(p_patient, p_channel, p_address, now(), p_verified)
$$;
comment on function public.invite_address_owner(uuid, text, text, boolean) is
  'invite_address_owner dated now: the dashboard''s (a clinician''s) form';
revoke all on function public.invite_address_owner(uuid, text, text, boolean) from public, anon;
grant execute on function public.invite_address_owner(uuid, text, text, boolean)
  to authenticated, medremind_app, service_role;

revoke execute on function public.invite_address_owner(uuid, text, text, timestamptz, boolean)
  from authenticated;
