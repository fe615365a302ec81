-- Per-API-key rate limit state (medremind/api_keys.py: take_rate), shared by every web process so
-- the limit holds for the fleet, not per process. One row per key that has made a request: the
-- GCRA "theoretical arrival time", i.e. when the key's bucket is empty again.
-- Only the service processes read or write it; clinicians and anon see nothing.

create table public.api_key_rates (
  api_key_id uuid primary key references public.api_keys (id) on delete cascade,
  allowed_at timestamptz not null
);
comment on table public.api_key_rates is
  'GCRA state of each API key''s rate limit (MEDREMIND_API_RATE_LIMIT, MEDREMIND_API_RATE_BURST).';

alter table public.api_key_rates enable row level security;
alter table public.api_key_rates force row level security;
grant select, insert, update, delete on public.api_key_rates to medremind_app;
create policy api_key_rates_service on public.api_key_rates
  for all to medremind_app using (true) with check (true);
grant all on public.api_key_rates to service_role;
