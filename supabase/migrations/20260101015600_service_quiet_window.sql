-- The service's default quiet window is remembered, and a note of a changed window is kept for a
-- while (scheduler/quiet_release.py).
--
-- 1. MEDREMIND_QUIET_HOURS_START/_END (the window of a patient with no window of their own
--    whose clinic has none either, and of caregivers of such a clinic) lived only in the worker's
--    environment. An operator who changed it and restarted the workers left every message
--    deferred to the old window's end waiting for it: a clinic announcement held at 22:00 for
--    08:00 still waited for 08:00 after the window became 23:00-06:00, or was switched off.
--    Each `medremind worker` now writes its window here at start (the last one to start wins,
--    as service_limits); when it differs from the one written before, it notes a change of the
--    service's window (a quiet_window_changes row naming neither a clinic nor a patient) and
--    the planner's pass re-times those messages with the window written here.
--
-- 2. The planner took each note once. A worker that had claimed a message before the change
--    and recorded its deferral after the pass that took the note (the claim read the old
--    window; a deferral is judged when the claim's row leaves the send queue, up to a lease
--    after the claim at a rate limit's pace) left the message at the old window's end. A note
--    is now re-read by every pass until it is older than a claim can be when it records
--    (twice MEDREMIND_LEASE_SECONDS: the lease, then the reaper's half-lease), then dropped.
create table public.service_quiet_window (
  id boolean primary key default true check (id),
  quiet_start time not null,
  quiet_end time not null,
  updated_at timestamptz not null default now()
);
comment on table public.service_quiet_window is
  'MEDREMIND_QUIET_HOURS_START/_END of the last worker to start; one row';

alter table public.service_quiet_window enable row level security;
alter table public.service_quiet_window force row level security;
revoke all on public.service_quiet_window from public, anon, authenticated;
grant select, insert, update on public.service_quiet_window to medremind_app;
create policy service_quiet_window_service on public.service_quiet_window
  for all to medremind_app using (true) with check (true);
grant all on public.service_quiet_window to service_role;

-- A note naming neither a clinic nor a patient: the service's own window changed.
alter table public.quiet_window_changes
  drop constraint quiet_window_changes_check,
  add constraint quiet_window_changes_check check (num_nonnulls(organization_id, patient_id) <= 1),
  add column noted_at timestamptz not null default now();
comment on column public.quiet_window_changes.noted_at is
  'When the window changed; the note is re-read by the planner until a claim made before it '
  'can no longer record (scheduler/quiet_release.py)';
