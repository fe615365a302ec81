-- Queries of `medremind backup` / `medremind restore` (medremind/backup.py).

-- name: tables_in_public
-- What a restore would overwrite: the service's tables live in schema public.
select count(*) from pg_tables where schemaname = 'public'

-- name: create_roles
-- Roles are cluster-wide, so a dump of one database does not carry them, yet its grants and
-- policies name them: create them first, as the compatibility migration does (Supabase has them).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'medremind_app') then
    create role medremind_app nologin noinherit;
  end if;
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant medremind_app to %I', current_user);
  end if;
end
$$
