-- Answers reported with their age (scheduler/fleet_limits.py): a worker batches its reports
-- (one statement every quarter of a second at most, instead of one per send at a cap) and each
-- says how long ago the provider answered, so a send stops counting a second after its answer
-- (clock_timestamp() less the age: never earlier than the answer, whatever the hosts' skew), not
-- a second after the report's statement ran. A refusal because the send cap places back is
-- still unreported now says to ask again 0.7 s after that send's slot: its report is in by then,
-- and the grant, a second after its answer, is made ahead of its slot (at a second, it was made
-- late: each such grant pushed the account's grid later; sooner, the worker asks more often for
-- fewer slots). take_send_slots as in 20260101008260_send_slots_account_busy.sql otherwise.

drop function public.finish_send_slots(text[], timestamptz[]);

-- Sends answered: each stops counting one second after its answer, p_ages seconds before now
-- (never before its slot). p_keys, p_slots and p_ages aligned (a key may repeat); a slot no
-- longer in its key's ring (overwritten) is ignored.
create function public.finish_send_slots(p_keys text[], p_slots timestamptz[], p_ages float8[])
returns void
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_row send_rate_ledger;
  v_i int;
  v_done record;
begin
  for v_row in
    select * from send_rate_ledger where key = any(p_keys) order by key for update
  loop
    for v_done in
      select s, v_now - make_interval(secs => greatest(age, 0)) as a
        from unnest(p_keys, p_slots, p_ages) u(k, s, age) where u.k = v_row.key
    loop
      v_i := array_position(v_row.ring_slots, v_done.s);
      if v_i is not null then
        v_row.ring_free[v_i] := least(v_row.ring_free[v_i],
                                      greatest(v_done.a, v_done.s) + interval '1 second');
      end if;
    end loop;
    update send_rate_ledger set ring_free = v_row.ring_free, updated_at = clock_timestamp()
     where key = v_row.key;
  end loop;
end
$$;
revoke all on function public.finish_send_slots(text[], timestamptz[], float8[]) from public;
grant execute on function public.finish_send_slots(text[], timestamptz[], float8[])
  to medremind_app, service_role;

create or replace function public.take_send_slots(
  p_keys text[], p_rates float8[], p_chat_keys text[], p_chat_rates float8[],
  p_horizons float8[], p_lead float8, p_hold float8
) returns table (n int, slot_at timestamptz, granted boolean, db_now timestamptz,
                account_busy boolean)
language plpgsql
set search_path = public, pg_temp
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_start timestamptz := v_now + make_interval(secs => p_lead);
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
