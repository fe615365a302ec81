-- The claim writes its lease into message_queue itself (issue 20). Until now the claim's update of
-- scheduled_messages fired message_queue_follow (migration 20260101011000), whose upsert looked
-- each claimed row up in the queue again, locked it again and wrote the lease the claim had just
-- computed: ~8.5 us of Postgres CPU per message in a burst (bench/dispatch.py scenario 11).
--
-- Now the claim (core/sql/dispatch.sql claim) updates the queue rows it locked, in the same
-- statement, and marks the transaction with medremind.queue_leased = 'claim' (set_config, local).
-- This trigger, at the end of that statement, sees the mark, clears it, and leaves the statement's
-- rows alone when every one of them is 'processing' (what a claim writes). Anything else is
-- followed as before:
--   - a statement that did not set the mark (every other writer: planner, API, dashboard, reaper,
--     record) is followed row by row as before;
--   - the mark lives until the end of the claim's own statement only (the trigger clears it
--     whichever way it goes), so a later update in the same transaction is followed;
--   - should an update of other rows run inside the claim's statement (another trigger's) and
--     consume the mark, its rows are not all 'processing' and are followed; the claim's rows are
--     then followed too (their upsert finds the lease already written and writes nothing).
-- Setting the mark by hand only skips the caller's own statement's queue upkeep; no role gets a
-- row it could not already write.

create or replace function public.message_queue_follow() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare earliest timestamptz;
begin
  if tg_op = 'DELETE' then
    delete from message_queue q
     where q.message_id = any (array(
       select o.id from old_rows o where o.status in ('pending', 'processing')));
    return null;
  end if;
  if tg_op = 'UPDATE' then
    if current_setting('medremind.queue_leased', true) = 'claim' then
      -- A claim's statement: it wrote its rows' leases into the queue itself.
      perform set_config('medremind.queue_leased', '', true);
      if not exists (select from new_rows n where n.status is distinct from 'processing') then
        return null;
      end if;
    end if;
    -- Finished rows leave the queue. "= any(array(...))": key lookups, however large the queue
    -- (the planner knows nothing of a transition table's size and may hash the whole queue).
    delete from message_queue q
     where q.message_id = any (array(
       select n.id from new_rows n where n.status not in ('pending', 'processing')));
  end if;
  -- Unfinished ones enter or follow their row (a lease, a re-plan's new time). The conflict
  -- check is a key lookup per row; an unchanged entry is not written again.
  insert into message_queue as q (message_id, priority, scheduled_time, locked_until)
  select n.id, n.priority, n.scheduled_time,
         case when n.status = 'processing' then n.locked_until end
    from new_rows n
   where n.status in ('pending', 'processing')
  on conflict (message_id) do update
     set priority = excluded.priority, scheduled_time = excluded.scheduled_time,
         locked_until = excluded.locked_until
   where (q.priority, q.scheduled_time, q.locked_until)
         is distinct from (excluded.priority, excluded.scheduled_time, excluded.locked_until);
  select min(n.scheduled_time) into earliest from new_rows n
   where n.status = 'pending' and n.scheduled_time <= now() + interval '5 minutes';
  if earliest is not null then
    perform pg_notify('medremind_due',
                      to_char(earliest at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
  end if;
  return null;
end
$$;

revoke all on function public.message_queue_follow() from public;
