-- The dispatcher's queue apart from the wide row (issue 20): message_queue holds one narrow row
-- per unfinished message (status 'pending' or 'processing') with what the claim orders by and the
-- reaper looks for. The claim takes due rows from its index, and its update of scheduled_messages
-- changes no indexed column, so it is a HOT update: no entry in the row's dozen indexes.
--
-- Before, each claim updated status, locked_until and the lease of the wide row, which the due
-- index (partial on status), the finished index (partial on status) and the lease index (on
-- locked_until) all named: every claim inserted into all 13 indexes, ~40 us of Postgres CPU per
-- message, and left dead entries in the due index that the next claims walked over.
--
-- scheduled_messages stays the interface (docs/DESIGN "Data model"): its status, lease and times
-- stay truthful, and inserting a row into it is enough to send a message. Statement triggers keep
-- message_queue in step with every writer (planner, API, dashboard through PostgREST, snooze,
-- cancel, the reaper, the dispatcher's record); they run as the table's owner, since a clinician
-- inserting through PostgREST has no grant on the queue.
--
-- In the queue a row is pending when locked_until is null and leased otherwise. A claim locks the
-- queue rows it takes first, then their messages with SKIP LOCKED (dispatch.sql claim): every
-- other writer locks a message before its queue row (through these triggers), and a claim that
-- never waits can make no deadlock with them.

create table public.message_queue (
  message_id uuid primary key,
  priority smallint not null,
  scheduled_time timestamptz not null,
  -- Set while a worker (or the web process, for a bot reply) holds the lease: the reaper's key.
  locked_until timestamptz
);
comment on table public.message_queue is
  'The unfinished scheduled_messages (pending: locked_until null; processing: leased), kept in '
  'step by triggers on scheduled_messages; the dispatcher claims from it (issue 20).';

create index message_queue_due_idx on public.message_queue (priority, scheduled_time)
  where locked_until is null;
create index message_queue_lease_idx on public.message_queue (locked_until)
  where locked_until is not null;

alter table public.message_queue enable row level security;
alter table public.message_queue force row level security;
revoke all on public.message_queue from public, anon, authenticated;
grant select, insert, update, delete on public.message_queue to medremind_app;
create policy message_queue_service on public.message_queue
  for all to medremind_app using (true) with check (true);
grant all on public.message_queue to service_role;

insert into public.message_queue (message_id, priority, scheduled_time, locked_until)
select id, priority, scheduled_time, case when status = 'processing' then locked_until end
  from public.scheduled_messages
 where status in ('pending', 'processing');

-- One function for the three statement triggers below (tg_op says which). It also wakes the
-- dispatchers (NOTIFY medremind_due with the earliest due time, as notify_due_messages did from
-- triggers of its own): one trigger call per statement fewer, which at a steady 1,000/s is
-- paid by every single-row insert, claim and record.
create function public.message_queue_follow() returns trigger
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
    -- Finished rows leave the queue. "= any(array(...))": key lookups, however large the queue
    -- (the planner knows nothing of a transition table's size and may hash the whole queue).
    delete from message_queue q
     where q.message_id = any (array(
       select n.id from new_rows n where n.status not in ('pending', 'processing')));
  end if;
  -- Unfinished ones enter or follow their row (a claim's lease, a re-plan's new time). The
  -- conflict check is a key lookup per row; an unchanged entry is not written again.
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

create function public.message_queue_after_truncate() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  truncate message_queue;
  return null;
end
$$;

revoke all on function public.message_queue_follow() from public;
revoke all on function public.message_queue_after_truncate() from public;

drop trigger scheduled_messages_notify_insert on public.scheduled_messages;
drop trigger scheduled_messages_notify_update on public.scheduled_messages;
drop function public.notify_due_messages();

create trigger scheduled_messages_queue_insert after insert on public.scheduled_messages
  referencing new table as new_rows
  for each statement execute function public.message_queue_follow();
create trigger scheduled_messages_queue_update after update on public.scheduled_messages
  referencing new table as new_rows
  for each statement execute function public.message_queue_follow();
create trigger scheduled_messages_queue_delete after delete on public.scheduled_messages
  referencing old table as old_rows
  for each statement execute function public.message_queue_follow();
create trigger scheduled_messages_queue_truncate after truncate on public.scheduled_messages
  for each statement execute function public.message_queue_after_truncate();

-- The wide row's indexes no longer name what a claim changes (status, locked_until): its update
-- is HOT where the page has room. A claim takes neighbouring rows together (planned in one
-- statement, due at one instant), so every row of a page needs room for its new version at once:
-- fillfactor 50 leaves it on pages written from now on (at 80, a fifth of a burst's claims were
-- HOT; at 50, 79% of claims and records, bench/dispatch_sql.py), and a record reuses the room
-- pruned from the claim's dead version. The cost: new pages hold half as many rows.
drop index public.scheduled_messages_due_idx;
drop index public.scheduled_messages_lease_idx;
-- Retention (dispatch.sql prune_finished) walks the oldest rows; they are finished ones.
drop index public.scheduled_messages_finished_idx;
create index scheduled_messages_time_idx on public.scheduled_messages (scheduled_time);
alter table public.scheduled_messages set (fillfactor = 50);
