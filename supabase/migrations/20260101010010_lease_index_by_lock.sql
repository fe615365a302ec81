-- The reaper's index holds every row with a lease (locked_until set) instead of every row whose
-- status is 'processing': the same rows (a claim sets locked_until with the status; recording,
-- reaping and the planner's re-plans clear it with the status), but the dispatcher's record
-- statement no longer matches its predicate.
--
-- record guards each outcome with "status = 'processing'"; that condition proved the old partial
-- index usable, and since the table's statistics see almost no leased rows the planner chose it
-- over the primary key: every record of a batch walked the whole lease index and fetched each
-- leased row's heap tuple to filter on id. In a burst every claimed row is leased, so a record of
-- 100 outcomes read thousands of rows (bench/dispatch.py scenario 11: 5,000 leased at once).
-- The reaper's "locked_until < $1" still proves "locked_until is not null".
drop index public.scheduled_messages_lease_idx;
create index scheduled_messages_lease_idx on public.scheduled_messages (locked_until)
  where locked_until is not null;
