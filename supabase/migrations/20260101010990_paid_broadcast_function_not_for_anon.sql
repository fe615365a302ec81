-- 20260101010250 created public.clinic_paid_broadcast without revoking PostgreSQL's default
-- EXECUTE grant to PUBLIC, so on Supabase `anon` could call it through PostgREST's /rpc
-- (tests/integration/test_function_privileges.py holds the rule). It runs as its caller, so RLS
-- already returned anon nothing; the grant goes anyway: anon may call no function.

revoke all on function public.clinic_paid_broadcast(uuid, timestamptz, timestamptz)
  from public, anon;
grant execute on function public.clinic_paid_broadcast(uuid, timestamptz, timestamptz)
  to authenticated, medremind_app, service_role;
