-- Schedules the planner failed to plan (scheduler/planning_failures.py).
--
-- The planner plans up to 500 schedules in one transaction. One schedule whose statement failed
-- (two times inside one DST gap made the dose insert raise CardinalityViolationError) failed the
-- whole batch on every tick for two days: no reminders were planned for any patient. Now a
-- failed batch is planned again patient by patient (then schedule by schedule), and each
-- schedule that still fails is one row here: the batches of later ticks leave it out (the
-- healthy ones do not pay for it again), and each tick tries it once on its own (it may have
-- been fixed); planned, its row is deleted. `medremind check` and /metrics
-- (medremind_schedules_planning_failed) show how many there are.
--
-- No clinic data: the schedule's id (its patient is the schedule's: merging two records moves
-- schedules), times, a count and the error's class and SQLSTATE (never its message,
-- which may quote a row's values).
create table public.planner_failures (
  schedule_id uuid primary key references public.reminder_schedules (id) on delete cascade,
  first_failed_at timestamptz not null,
  failed_at timestamptz not null,
  failures int not null default 1 check (failures > 0),
  error_class text not null,
  sqlstate text
);

comment on table public.planner_failures is
  'Schedules the planner failed to plan, tried again on their own each tick until planned '
  '(scheduler/planning_failures.py).';

create index planner_failures_failed_at on public.planner_failures (failed_at);

alter table public.planner_failures enable row level security;
alter table public.planner_failures force row level security;
revoke all on public.planner_failures from public, anon, authenticated;
grant select, insert, update, delete on public.planner_failures to medremind_app;
create policy planner_failures_service on public.planner_failures
  for all to medremind_app using (true) with check (true);
grant all on public.planner_failures to service_role;
