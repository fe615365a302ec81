-- Compatibility: create what Supabase provides, only where it does not already exist, so the same
-- migrations run on Supabase, on any PostgreSQL 14+, and on the embedded server.

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
end
$$;

create schema if not exists auth;

create table if not exists auth.users (
  id uuid primary key default gen_random_uuid(),
  email text unique,
  encrypted_password text,
  email_confirmed_at timestamptz,
  raw_app_meta_data jsonb not null default '{}'::jsonb,
  raw_user_meta_data jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Supabase's definitions read the JWT claims PostgREST puts into request.jwt.claims (and the older
-- per-claim setting). Only created when absent: on Supabase these already exist and are owned there.
do $$
begin
  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'uid'
  ) then
    execute $fn$
      create function auth.uid() returns uuid language sql stable as $body$
        select coalesce(
          nullif(current_setting('request.jwt.claim.sub', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
        )::uuid
      $body$
    $fn$;
  end if;
  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'jwt'
  ) then
    execute $fn$
      create function auth.jwt() returns jsonb language sql stable as $body$
        select coalesce(
          nullif(current_setting('request.jwt.claim', true), ''),
          nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
      $body$
    $fn$;
  end if;
  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'role'
  ) then
    execute $fn$
      create function auth.role() returns text language sql stable as $body$
        select coalesce(
          nullif(current_setting('request.jwt.claim.role', true), ''),
          (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
        )::text
      $body$
    $fn$;
  end if;
end
$$;

grant usage on schema auth to anon, authenticated, service_role;
grant execute on all functions in schema auth to anon, authenticated, service_role;

-- The least-privilege role the web and worker processes use (never service_role). It is NOLOGIN
-- here; operators either GRANT it to the login role in DATABASE_URL (the processes SET ROLE to it)
-- or give it LOGIN and a password.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'medremind_app') then
    create role medremind_app nologin noinherit;
  end if;
end
$$;
grant usage on schema public to medremind_app, authenticated, anon;
grant usage on schema auth to medremind_app;
grant execute on all functions in schema auth to medremind_app;

-- Let the migrating login role switch to the app role (a no-op for superusers; PostgreSQL 16+
-- needs it spelled out for roles that merely created medremind_app).
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant medremind_app to %I', current_user);
  end if;
end
$$;
