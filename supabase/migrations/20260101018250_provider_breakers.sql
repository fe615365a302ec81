-- Circuit breakers shared by the fleet (scheduler/fleet_breakers.py).
--
-- A breaker was per worker process: with N workers each learned a provider's outage (or a
-- revoked bot token) from its own failed sends, and each probed the provider once per cooldown,
-- N probes where one says it all; the web process kept sending its bot replies on a refused
-- token. Now each open breaker is one row here: a process that opens one (or opens it again
-- after a failed probe) writes it, every worker and web process reads the table about once a
-- second (one statement for all of its breakers, never one per send) and holds the account's
-- sends too, and the probe after each cooldown is granted to one process: the first that asks
-- once open_until has passed and no other's probe is out (probe_until). The probe's success
-- deletes the row (every process closes its breaker at its next read), its failure opens it again
-- for twice as long. A probe never answered (its worker died) frees the grant at probe_until.
--
-- No clinic data: an account key (a bot's id, a Twilio sender or messaging service, an SMTP
-- server, a clinic's id), the channel, timings, and why the provider refused the credentials
-- ("Telegram rejected the bot token": never a secret).
create table public.provider_breakers (
  account text primary key,
  channel text not null,
  opened_at timestamptz not null default now(),
  open_until timestamptz not null,
  cooldown_seconds double precision not null check (cooldown_seconds > 0),
  failures int not null default 0,
  refused text,
  opened_by text not null,
  probe_by text,
  probe_until timestamptz
);

comment on table public.provider_breakers is
  'Open circuit breakers of provider accounts, shared by every worker and web process; one '
  'probe per cooldown fleet-wide (scheduler/fleet_breakers.py).';

alter table public.provider_breakers enable row level security;
alter table public.provider_breakers force row level security;
revoke all on public.provider_breakers from public, anon, authenticated;
grant select, insert, update, delete on public.provider_breakers to medremind_app;
create policy provider_breakers_service on public.provider_breakers
  for all to medremind_app using (true) with check (true);
grant all on public.provider_breakers to service_role;

-- One process's exchange with the table, in one round trip: its breakers closed since the last
-- (p_closed: a send succeeded), opened or opened again (p_opened: [{account, channel, cooldown,
-- failures, refused}]), the probes it asks for (p_probes: open accounts it has sends waiting
-- for), then every open breaker with seconds until its cooldown ends (open_in), the probe out
-- (probe_by, probe_in). Times are the database's: no skew between hosts. p_started: the
-- process's first exchange. Replacing refused credentials means restarting the processes with
-- the new ones (a bot token is in the environment), so a process that starts ends a refusal's
-- cooldown at once: one probe (the first process to ask) tries the account within seconds, as
-- a restarted worker did when each had its own breakers, instead of after up to 5 minutes.
create function public.provider_breakers_sync(
  p_worker text, p_opened jsonb, p_closed text[], p_probes text[], p_started boolean)
  returns table (account text, channel text, open_in double precision,
                 probe_in double precision, probe_by text, cooldown_seconds double precision,
                 failures int, refused text)
  language plpgsql security invoker set search_path = public, pg_temp as $$
#variable_conflict use_column
begin
  if cardinality(p_closed) > 0 then
    delete from public.provider_breakers b where b.account = any(p_closed);
  end if;
  if jsonb_array_length(p_opened) > 0 then
    insert into public.provider_breakers as b
      (account, channel, open_until, cooldown_seconds, failures, refused, opened_by)
    select o.account, o.channel, now() + make_interval(secs => o.cooldown), o.cooldown,
           o.failures, nullif(o.refused, ''), p_worker
      from jsonb_to_recordset(p_opened)
           as o(account text, channel text, cooldown double precision, failures int,
                refused text)
    on conflict (account) do update set
      -- Two processes opening it at once: the later end and the longer cooldown hold.
      open_until = greatest(b.open_until, excluded.open_until),
      cooldown_seconds = greatest(b.cooldown_seconds, excluded.cooldown_seconds),
      failures = greatest(b.failures, excluded.failures),
      refused = coalesce(excluded.refused, b.refused),
      -- This process's probe failed (it opens the breaker again): its grant is spent.
      probe_by = case when b.probe_by = p_worker then null else b.probe_by end,
      probe_until = case when b.probe_by = p_worker then null else b.probe_until end;
  end if;
  -- A breaker no process has probed for an hour (nothing to send there: a clinic's account
  -- removed, a quiet bot) is forgotten: the next send on the account finds out for itself.
  delete from public.provider_breakers b
   where b.open_until < now() - interval '1 hour'
     and (b.probe_until is null or b.probe_until < now() - interval '1 hour');
  if p_started then
    update public.provider_breakers b set open_until = now()
     where b.refused is not null and b.open_until > now();
  end if;
  if cardinality(p_probes) > 0 then
    update public.provider_breakers b
       set probe_by = p_worker,
           probe_until = now() + make_interval(secs => b.cooldown_seconds)
     where b.account = any(p_probes) and b.open_until <= now()
       and (b.probe_until is null or b.probe_until <= now());
  end if;
  return query
    select b.account, b.channel, extract(epoch from b.open_until - now())::double precision,
           coalesce(extract(epoch from b.probe_until - now())::double precision, 0.0),
           b.probe_by, b.cooldown_seconds, b.failures, b.refused
      from public.provider_breakers b;
end
$$;
revoke all on function public.provider_breakers_sync(text, jsonb, text[], text[], boolean)
  from public, anon, authenticated;
grant execute on function public.provider_breakers_sync(text, jsonb, text[], text[], boolean)
  to medremind_app;
