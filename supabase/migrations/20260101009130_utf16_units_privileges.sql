-- public.utf16_units (20260101009110) was granted to public: anon may call no function
-- (tests/integration/test_function_privileges.py). Every role that writes the tables whose CHECK
-- constraints use it keeps it; anon writes none of them.
revoke all on function public.utf16_units(text) from public;
grant execute on function public.utf16_units(text) to authenticated, medremind_app, service_role;
