-- The one-line rule's helpers (migration 20260101019020) were created with PostgreSQL's default
-- EXECUTE for PUBLIC, so the anonymous role could call them (tests/integration/
-- test_function_privileges.py: anon may call no function). They read no table, but every function
-- anon may call is one more door: only the roles whose writes the rule checks keep them.
revoke all on function public.breaks_a_line(text) from public;
revoke all on function public.one_line_folded(text) from public;
grant execute on function public.breaks_a_line(text) to authenticated, medremind_app, service_role;
grant execute on function public.one_line_folded(text) to authenticated, medremind_app, service_role;
