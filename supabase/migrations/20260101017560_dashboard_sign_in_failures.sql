-- The dashboard's failed sign-ins, per e-mail address and per client address, shared by every
-- dashboard process (dashboard/src/lib/throttle.ts).
--
-- The count was kept in each dashboard process's memory: N processes behind a load balancer
-- allowed N times the attempts, a restart forgot them, and (until session 26) a flood of other
-- keys cleared every count. Each key's row holds the failures of its window (15 minutes from the
-- first one): at 10 an attempt is refused without checking the password until the window ends;
-- a sign-in clears the e-mail's row. The key is a SHA-256 of the salt of sign_in_client_salt
-- (migration 20260101015700) and the key's text ("email:..." or "client:..."): no address is
-- stored, nor a plain hash that hashing every address would find again.

create table dashboard_sign_in_failures (
  key_hash text primary key check (length(key_hash) = 64),
  failures integer not null check (failures > 0),
  window_started_at timestamptz not null
);

-- The rows whose window has passed, removed by the failures that follow.
create index dashboard_sign_in_failures_window_idx
  on dashboard_sign_in_failures (window_started_at);

alter table public.dashboard_sign_in_failures enable row level security;
alter table public.dashboard_sign_in_failures force row level security;
revoke all on public.dashboard_sign_in_failures from public, anon, authenticated;
grant select, insert, update, delete on public.dashboard_sign_in_failures to medremind_app;
create policy dashboard_sign_in_failures_service on public.dashboard_sign_in_failures
  for all to medremind_app using (true) with check (true);
grant all on public.dashboard_sign_in_failures to service_role;
