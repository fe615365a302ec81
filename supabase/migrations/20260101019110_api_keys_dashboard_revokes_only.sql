-- The dashboard's role revokes and renames API keys, nothing more; a revoked key stays revoked.
--
-- `authenticated` could update every column of api_keys (migration 20260101000200; only an
-- admin, since 20260101009610). An admin's session (one left signed in, or stolen) could set a
-- key's key_hash to the SHA-256 of a secret of its own choosing and its role to admin: an API key
-- of the clinic that outlives the session, listed by `medremind apikey list` under the
-- integration's own prefix and name. Or set revoked_at back to null on a key revoked because it
-- leaked. Keys are made by `medremind apikey create` (the service's role); the dashboard's role
-- keeps what revoking needs (revoked_at) and the label (name). A revoked key is refused from the
-- next request and for good, whoever asks: its revocation cannot be changed or taken back (a
-- new key is the way back). tests/integration/test_admin_only_changes.py.

revoke update on public.api_keys from authenticated;
grant update (name, revoked_at) on public.api_keys to authenticated;

create function public.api_key_stays_revoked() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  raise exception 'API key % was revoked and stays revoked', old.prefix
    using errcode = '42501',
          hint = 'make a new key instead: medremind apikey create --org <clinic>';
end
$$;
revoke all on function public.api_key_stays_revoked() from public;

create trigger api_keys_stay_revoked before update of revoked_at on public.api_keys
  for each row when (old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at)
  execute function public.api_key_stays_revoked();
