-- The fleet's circuit breakers (scheduler/fleet_breakers.py, migration 20260101018250).

-- name: sync
-- One process's exchange with provider_breakers: $1 its name, $2 the breakers it opened
-- ([{account, channel, cooldown, failures, refused}]), $3 those it closed, $4 the probes it
-- asks for, $5 whether it is its first (a start ends refusals' cooldowns); every open breaker.
select account, channel, open_in, probe_in, probe_by, cooldown_seconds, failures, refused
  from provider_breakers_sync($1, $2::jsonb, $3::text[], $4::text[], $5)

-- name: open_for_check
-- The fleet's open breakers for `medremind check` (one row each, whoever holds them), the
-- database's now() for the times, and how many workers were heard from in the last $1 seconds
-- (nothing probes when none is). Those the sync would forget (untouched for an hour) are left out.
select b.account, b.channel, b.opened_at, b.open_until, b.failures, b.refused, b.probe_by,
       b.probe_until, now() as now,
       (select count(*) from worker_heartbeats h
         where h.seen_at > now() - make_interval(secs => $1) and h.stopped_at is null)::int
         as workers
  from provider_breakers b
 where not (b.open_until < now() - interval '1 hour'
            and (b.probe_until is null or b.probe_until < now() - interval '1 hour'))
 order by b.channel, b.account
