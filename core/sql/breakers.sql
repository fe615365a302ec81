-- The fleet's circuit breakers (scheduler/fleet_breakers.py, migration 20260101018250).

-- name: sync
-- One process's exchange with provider_breakers: $1 its name, $2 the breakers it opened
-- ([{account, channel, cooldown, failures, refused}]), $3 those it closed, $4 the probes it
-- asks for, $5 whether it is its first (a start ends refusals' cooldowns); every open breaker.
select account, channel, open_in, probe_in, probe_by, cooldown_seconds, failures, refused
  from provider_breakers_sync($1, $2::jsonb, $3::text[], $4::text[], $5)
