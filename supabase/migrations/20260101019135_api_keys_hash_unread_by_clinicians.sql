-- Clinicians list the clinic's API keys without their hashes.
--
-- `authenticated` could select every column of api_keys (migration 20260101000200), key_hash
-- too: the SHA-256 of the key's secret, which a signed-in session (a clinician's, not only an
-- admin's) could copy out and try guesses against offline, or probe with `where key_hash = ...`.
-- Nothing on the dashboard reads it; the service checks keys with its own role
-- (medremind/api_keys.py). A key stays listed by its name, prefix, role, times and revocation,
-- and revoking it (migration 20260101019110) names none of the hash.
-- tests/integration/test_admin_only_changes.py.

revoke select on public.api_keys from authenticated;
grant select (id, organization_id, name, prefix, role, created_at, last_used_at, revoked_at)
  on public.api_keys to authenticated;
