-- A lost lease spends no attempt; lost leases are counted apart (docs/delivery.md "At least
-- once", point 4; core/sql/reaper.sql reap).
--
-- A claim counts an attempt, and the reaper failed a row whose lease ran out once it had used
-- them all ("lease expired on the last attempt"). A reminder whose earlier tries had failed and
-- whose last claim was lost by a killed or stalled worker, before its send began, was failed
-- unsent: a missed dose decided by lost claims alone
-- (tests/dispatch/test_last_attempt_reaped.py). Nothing in the database tells whether a lost
-- claim's send had begun, so the reaper gives the attempt back and counts the lost lease here;
-- a row fails only after as many lost leases as it has attempts, and never fewer than three,
-- which still ends a message whose send stops every worker that tries it.
alter table public.scheduled_messages
  add column leases_lost smallint not null default 0 check (leases_lost >= 0);
comment on column public.scheduled_messages.leases_lost is
  'Leases of this row that ran out unrecorded (its worker stopped or stalled): counted apart from '
  'attempts by the reaper, which fails the row at greatest(max_attempts, 3)';
