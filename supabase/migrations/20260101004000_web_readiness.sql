-- /readyz asks, as the least-privilege role, whether every migration is applied. The migration
-- runner creates medremind_migrations (with RLS on) before it runs any file, so it exists here.
grant select on public.medremind_migrations to medremind_app;
create policy medremind_migrations_service on public.medremind_migrations
  for select to medremind_app using (true);
