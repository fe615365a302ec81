-- What the planner last planned an appointment's messages for. The dashboard edits appointments
-- directly (under RLS, with no Python in the way); the planner tick compares these with the row
-- and plans, re-plans or withdraws messages for whatever changed since.

alter table appointments
  add column planned_starts_at timestamptz,
  add column planned_status text;

-- Rows that exist already were planned when they were written.
update appointments set planned_starts_at = starts_at, planned_status = status;

create index appointments_unsynced_idx on appointments (starts_at)
  where planned_status is distinct from status or planned_starts_at is distinct from starts_at;
