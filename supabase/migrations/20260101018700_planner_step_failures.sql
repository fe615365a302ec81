-- The planner tick's steps after materialization, failed for one patient or one appointment
-- (scheduler/planning_steps.py).
--
-- The tick's last transaction (follow-ups, the missed mark and caregiver alerts, the caregivers'
-- unreachable notices, refills, the release of quiet-hours deferrals, appointment sync) was one
-- all-or-nothing step: one patient whose zone no zone database knows (Etc/Unknown, stored for
-- Factory before the API refused it) made it raise on every tick, and no dose of any clinic was
-- marked missed, no caregiver alerted, no refill reminded. A pause end that raised other than a
-- PostgresError or ValueError stopped the whole tick, every patient's planning with it. Now
-- each step runs in a savepoint; one that fails is run again on halves of the patients it
-- touches until the failing ones are found, and each of those is one row here: later ticks
-- leave it out of the step and try it once on its own (bounded per tick); done, its row goes.
-- `medremind check` and /metrics (medremind_planner_steps_failed) show how many there are.
--
-- No clinic data: ids, times, a count and the error's class and SQLSTATE (never its message,
-- which may quote a row's values). unit_id is the patient's id, or the appointment's for
-- 'appointments'; patient_id ties the row to its patient (erased with them; no other clinic's).
create table public.planner_step_failures (
  step text not null check (step in ('pause_end', 'followups', 'unreachable_notices', 'refills',
                                     'appointments')),
  unit_id uuid not null,
  patient_id uuid not null references public.patients (id) on delete cascade,
  first_failed_at timestamptz not null,
  failed_at timestamptz not null,
  failures int not null default 1 check (failures > 0),
  error_class text not null,
  sqlstate text,
  primary key (step, unit_id),
  check (step = 'appointments' or unit_id = patient_id)
);

comment on table public.planner_step_failures is
  'Patients (or appointments) a planner step failed for, left out of the step and tried again on'
  ' their own each tick until done (scheduler/planning_steps.py).';

create index planner_step_failures_failed_at on public.planner_step_failures (failed_at);
create index planner_step_failures_patient on public.planner_step_failures (patient_id);

alter table public.planner_step_failures enable row level security;
alter table public.planner_step_failures force row level security;
revoke all on public.planner_step_failures from public, anon, authenticated;
grant select, insert, update, delete on public.planner_step_failures to medremind_app;
create policy planner_step_failures_service on public.planner_step_failures
  for all to medremind_app using (true) with check (true);
grant all on public.planner_step_failures to service_role;
