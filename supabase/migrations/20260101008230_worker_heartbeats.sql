-- Each worker's counters, written every few seconds (scheduler/heartbeat.py), so the web's
-- /metrics shows the whole fleet where only the web process can be scraped (a Procfile
-- platform routes nothing to workers), and an operator sees a worker that went quiet. Counter
-- names and labels only (channel, error class, reason): no patient data, no organization.

create table public.worker_heartbeats (
  worker_id text primary key check (length(worker_id) between 1 and 200),
  started_at timestamptz not null,
  seen_at timestamptz not null,
  counters jsonb not null default '[]' check (jsonb_typeof(counters) = 'array')
);
comment on table public.worker_heartbeats is
  'Each worker''s last heartbeat and counters (sent, failed, retried...), for the web''s /metrics.';
create index worker_heartbeats_seen_idx on public.worker_heartbeats (seen_at);

alter table public.worker_heartbeats enable row level security;
alter table public.worker_heartbeats force row level security;
grant select, insert, update, delete on public.worker_heartbeats to medremind_app;
create policy worker_heartbeats_service on public.worker_heartbeats
  for all to medremind_app using (true) with check (true);
grant all on public.worker_heartbeats to service_role;
