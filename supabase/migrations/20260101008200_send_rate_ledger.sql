-- Provider rate limits shared by every worker (scheduler/fleet_limits.py).
--
-- One row per rate key: a provider account (a bot token's id, a Twilio sender or messaging
-- service, a WhatsApp sender, an SMTP server) or one recipient of one account (Telegram's 1/s per
-- chat; the chat id is stored hashed). No patient data: no organization; only the service
-- processes read or write it.
--
-- Two rules hold per key, for all workers together:
-- * pace: sends start on a grid of 1/rate (next_at: the start of the next free slot, as in the
--   generic cell rate algorithm; taking a slot moves it on by one interval);
-- * window: a provider counts the requests it receives in each second, and receives one anywhere
--   between the worker's start and its answer, so jitter (a new connection, a busy host) can
--   crowd a pace-perfect stream. The last cap = ceil(rate) sends are kept in a ring (their slot,
--   and when they stop counting: one second after their answer, or after a hold if they never
--   report); a send starts only once the one cap places before it stops counting. So no second
--   of the provider's ever sees more than cap requests, whatever the jitter.
-- paused_until holds a provider's retry_after for the whole fleet.

create table public.send_rate_ledger (
  key text primary key check (length(key) between 1 and 200),
  next_at timestamptz not null,
  paused_until timestamptz,
  ring_slots timestamptz[] not null default '{}',  -- the last cap sends' slots (a ring)
  ring_free timestamptz[] not null default '{}',  -- ... and when each stops counting
  ring_head integer not null default 1,  -- the oldest entry: the next one overwritten
  updated_at timestamptz not null default now()
);
comment on table public.send_rate_ledger is
  'Fleet-wide provider rate limits: next free send slot and the last sends per account or recipient.';

alter table public.send_rate_ledger enable row level security;
alter table public.send_rate_ledger force row level security;
grant select, insert, update, delete on public.send_rate_ledger to medremind_app;
create policy send_rate_ledger_service on public.send_rate_ledger
  for all to medremind_app using (true) with check (true);
grant all on public.send_rate_ledger to service_role;

-- Slots for a batch of sends, one result row per send in argument order (n).
-- Send i needs a slot on p_keys[i] (its account, at p_rates[i] a second; null: none) and, when
-- p_chat_keys[i] is not null, on its recipient at p_chat_rates[i]. It is granted the earliest
-- moment both keys allow when that is within p_horizons[i] seconds and the recipient is not the
-- later of the two (then the account's grid would idle: it asks again when the recipient is
-- free); otherwise it is refused with slot_at = when to ask again, and takes nothing. A slot
-- counts as in flight for p_hold seconds unless finish_send_slots reports its answer. Slots start
-- no earlier than p_lead seconds from now (the answer's way back). Rows are created and locked
-- in key order, so concurrent workers never deadlock. db_now maps slots onto the worker's clock.
create function public.take_send_slots(
  p_keys text[], p_rates float8[], p_chat_keys text[], p_chat_rates float8[],
  p_horizons float8[], p_lead float8, p_hold float8
) returns table (n int, slot_at timestamptz, granted boolean, db_now timestamptz)
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_start timestamptz := v_now + make_interval(secs => p_lead);
  v_poll timestamptz := v_now + interval '50 milliseconds';
  v_in_flight timestamptz := v_now + interval '1 second';  -- free later than this: no answer yet
  v_keys text[];
  v_next timestamptz[];
  v_used boolean[];
  v_rows send_rate_ledger[];
  v_p int;
  v_c int;
  v_sp timestamptz;
  v_sc timestamptz;
  v_wait_p timestamptz;
  v_wait_c timestamptz;
  v_slot timestamptz;
  i int;
begin
  select array_agg(k order by k) into v_keys
    from (select distinct k from unnest(p_keys || p_chat_keys) k where k is not null) s;
  if v_keys is not null then
    insert into send_rate_ledger (key, next_at)
    select k, v_now from unnest(v_keys) k order by k
    on conflict (key) do nothing;
    select array_agg(l.key order by l.key),
           array_agg((l.key, l.next_at, l.paused_until, l.ring_slots, l.ring_free, l.ring_head,
                      l.updated_at)::send_rate_ledger order by l.key)
      into v_keys, v_rows
      from (select * from send_rate_ledger where key = any(v_keys) order by key for update) l;
    for i in 1 .. coalesce(cardinality(v_rows), 0) loop
      v_next[i] := greatest((v_rows[i]).next_at, coalesce((v_rows[i]).paused_until, v_start),
                            v_start);
    end loop;
    v_used := array_fill(false, array[coalesce(cardinality(v_keys), 0)]);
  end if;
  for i in 1 .. coalesce(cardinality(p_keys), 0) loop
    v_p := array_position(v_keys, p_keys[i]);
    v_c := array_position(v_keys, p_chat_keys[i]);
    n := i;
    db_now := v_now;
    granted := false;
    -- Each key's earliest start: its grid, and the ring's oldest entry of cap.
    v_sp := coalesce(v_next[v_p], v_start);
    v_wait_p := send_ring_wait(v_rows[v_p], ceil(p_rates[i])::int);
    v_sc := coalesce(v_next[v_c], v_start);
    v_wait_c := send_ring_wait(v_rows[v_c], ceil(p_chat_rates[i])::int);
    if v_wait_p > v_in_flight or v_wait_c > v_in_flight then
      -- The send cap places back has not answered yet: ask again shortly.
      slot_at := greatest(v_poll, least(v_sp, v_sc));
    elsif v_c is not null and greatest(v_sc, v_wait_c) > greatest(v_sp, v_wait_p) then
      -- The recipient is the later one: ask again when it is free (the grid takes others).
      slot_at := greatest(v_sc, v_wait_c);
    else
      v_slot := greatest(v_sp, v_wait_p, v_sc, coalesce(v_wait_c, v_sc));
      slot_at := v_slot;
      if v_slot <= v_now + make_interval(secs => p_horizons[i]) then
        granted := true;
        if v_p is not null then
          v_next[v_p] := v_slot + make_interval(secs => 1.0 / p_rates[i]);
          v_rows[v_p] := send_ring_push(v_rows[v_p], ceil(p_rates[i])::int, v_slot, p_hold);
          v_used[v_p] := true;
        end if;
        if v_c is not null then
          v_next[v_c] := v_slot + make_interval(secs => 1.0 / p_chat_rates[i]);
          v_rows[v_c] := send_ring_push(v_rows[v_c], ceil(p_chat_rates[i])::int, v_slot, p_hold);
          v_used[v_c] := true;
        end if;
      end if;
    end if;
    return next;
  end loop;
  for i in 1 .. coalesce(cardinality(v_keys), 0) loop
    if v_used[i] then
      update send_rate_ledger
         set next_at = v_next[i], ring_slots = (v_rows[i]).ring_slots,
             ring_free = (v_rows[i]).ring_free, ring_head = (v_rows[i]).ring_head,
             updated_at = v_now
       where key = v_keys[i];
    end if;
  end loop;
end
$$;

-- When the ring lets the next send start (null: it is not full yet). cap = the ring's size.
create function public.send_ring_wait(p_row send_rate_ledger, p_cap int)
returns timestamptz
language sql immutable
set search_path = public, pg_temp
as $$
  select case when p_row is null or cardinality(p_row.ring_free) < p_cap then null
              else p_row.ring_free[p_row.ring_head] end
$$;

-- The ring after a send at p_slot: it overwrites the oldest entry, counting until its answer is
-- reported (or p_hold seconds and one more pass).
create function public.send_ring_push(p_row send_rate_ledger, p_cap int, p_slot timestamptz,
                                      p_hold float8)
returns send_rate_ledger
language plpgsql immutable
set search_path = public, pg_temp
as $$
declare
  v_free timestamptz := p_slot + make_interval(secs => p_hold + 1);
begin
  if cardinality(p_row.ring_free) < p_cap then
    -- Filling up (or the cap grew): append; the oldest stays first.
    p_row.ring_slots := p_row.ring_slots || p_slot;
    p_row.ring_free := p_row.ring_free || v_free;
    p_row.ring_head := 1;
  elsif cardinality(p_row.ring_free) > p_cap then
    -- The cap shrank: start the ring again from this send.
    p_row.ring_slots := array[p_slot];
    p_row.ring_free := array[v_free];
    p_row.ring_head := 1;
  else
    p_row.ring_slots[p_row.ring_head] := p_slot;
    p_row.ring_free[p_row.ring_head] := v_free;
    p_row.ring_head := p_row.ring_head % p_cap + 1;
  end if;
  return p_row;
end
$$;

-- Sends answered: each stops counting one second after now. p_keys and p_slots aligned (a key
-- may repeat); a slot no longer in its key's ring (overwritten) is ignored.
create function public.finish_send_slots(p_keys text[], p_slots timestamptz[])
returns void
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_free timestamptz := clock_timestamp() + interval '1 second';
  v_row send_rate_ledger;
  v_i int;
  v_slot timestamptz;
begin
  for v_row in
    select * from send_rate_ledger where key = any(p_keys) order by key for update
  loop
    for v_slot in
      select s from unnest(p_keys, p_slots) u(k, s) where u.k = v_row.key
    loop
      v_i := array_position(v_row.ring_slots, v_slot);
      if v_i is not null then
        v_row.ring_free[v_i] := least(v_row.ring_free[v_i], v_free);
      end if;
    end loop;
    update send_rate_ledger set ring_free = v_row.ring_free, updated_at = clock_timestamp()
     where key = v_row.key;
  end loop;
end
$$;

revoke all on function
  public.take_send_slots(text[], float8[], text[], float8[], float8[], float8, float8) from public;
revoke all on function public.send_ring_wait(send_rate_ledger, int) from public;
revoke all on function public.send_ring_push(send_rate_ledger, int, timestamptz, float8) from public;
revoke all on function public.finish_send_slots(text[], timestamptz[]) from public;
grant execute on function
  public.take_send_slots(text[], float8[], text[], float8[], float8[], float8, float8),
  public.send_ring_wait(send_rate_ledger, int),
  public.send_ring_push(send_rate_ledger, int, timestamptz, float8),
  public.finish_send_slots(text[], timestamptz[])
  to medremind_app, service_role;
