-- take_send_slots reads the database's clock for its answer once it holds the keys' row locks,
-- not before waiting for them (scheduler/fleet_limits.py maps that now to the moment the answer
-- reaches the worker: a lock wait inside the mapping made each slot start that much late, and a
-- send 30 places later starts a second after that one's answer, so each late start cost the
-- cap's use). As in 20260101009200_send_slots_answer_times.sql otherwise.

create or replace function public.take_send_slots(
  p_keys text[], p_rates float8[], p_chat_keys text[], p_chat_rates float8[],
  p_horizons float8[], p_lead float8, p_hold float8
) returns table (n int, slot_at timestamptz, granted boolean, db_now timestamptz,
                account_busy boolean)
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_now timestamptz := clock_timestamp();  -- again once the keys are locked (below)
  v_start timestamptz;
  v_in_flight timestamptz;  -- free later than this: no answer yet
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
  v_start := v_now + make_interval(secs => p_lead);
  v_in_flight := v_now + interval '1 second';
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
    -- The database's now for the answer is taken once the keys are locked: a worker maps it to
    -- the moment the answer reaches it, so a wait for another worker's lock taken into it made
    -- every slot of this answer start that much late on the worker (never early).
    v_now := clock_timestamp();
    v_start := v_now + make_interval(secs => p_lead);
    v_in_flight := v_now + interval '1 second';
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
    account_busy := false;
    -- Each key's earliest start: its grid, and the ring's oldest entry of cap.
    v_sp := coalesce(v_next[v_p], v_start);
    v_wait_p := send_ring_wait(v_rows[v_p], ceil(p_rates[i])::int);
    v_sc := coalesce(v_next[v_c], v_start);
    v_wait_c := send_ring_wait(v_rows[v_c], ceil(p_chat_rates[i])::int);
    if v_wait_p > v_in_flight or v_wait_c > v_in_flight then
      -- The send cap places back has not been reported answered yet. Workers report answers
      -- within a quarter of a second (batched): ask again once it should be, so that the
      -- grant, a second after its answer, is made ahead of its slot rather than late.
      account_busy := v_wait_p > v_in_flight;
      slot_at := greatest(v_now + interval '100 milliseconds', least(v_sp, v_sc),
                          send_ring_oldest_slot(v_rows[v_p], ceil(p_rates[i])::int)
                            + interval '700 milliseconds',
                          send_ring_oldest_slot(v_rows[v_c], ceil(p_chat_rates[i])::int)
                            + interval '700 milliseconds');
    elsif v_c is not null and greatest(v_sc, v_wait_c) > greatest(v_sp, v_wait_p) then
      -- The recipient is the later one: ask again when it is free (the grid takes others).
      slot_at := greatest(v_sc, v_wait_c);
    else
      v_slot := greatest(v_sp, v_wait_p, v_sc, coalesce(v_wait_c, v_sc));
      slot_at := v_slot;
      account_busy := v_p is not null and v_slot = greatest(v_sp, v_wait_p);
      if v_slot <= v_now + make_interval(secs => p_horizons[i]) then
        granted := true;
        account_busy := false;
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
