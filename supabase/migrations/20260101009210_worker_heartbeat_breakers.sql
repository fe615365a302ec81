-- Each worker's circuit breakers that are not closed (scheduler/breaker.py), written with its
-- heartbeat: the breakers live in each worker process, and `medremind check` and the web's
-- /metrics show the fleet's from here. Per breaker: the provider account's rate key (a bot's
-- numeric id, a sender number or messaging service, an SMTP host: no patient data), its channel,
-- open or half_open, consecutive failures, seconds until a probe may go.
alter table public.worker_heartbeats
  add column breakers jsonb not null default '[]' check (jsonb_typeof(breakers) = 'array');
comment on column public.worker_heartbeats.breakers is
  'The worker''s circuit breakers not closed at its last heartbeat (account, channel, state, failures, probe_in).';
