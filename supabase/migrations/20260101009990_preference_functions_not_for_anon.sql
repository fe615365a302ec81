-- 20260101009710 granted the preference helpers to authenticated and the service's role but left
-- PostgreSQL's default EXECUTE grant to PUBLIC standing, so on Supabase `anon` could call them
-- through PostgREST's /rpc (tests/integration/test_function_privileges.py holds the rule).

revoke all on function public.message_category(text, jsonb) from public, anon;
revoke all on function public.preference_opted_out(text, text) from public, anon;
revoke all on function public.patient_opted_out(uuid, text) from public, anon;
