-- Queries of the planner (scheduler/planner.py, scheduler/planning_*.py), dose answers
-- (scheduler/dose_answers.py) and appointments (scheduler/appointments.py).

-- ---------------------------------------------------------------------------------------------
-- Dose answers
-- ---------------------------------------------------------------------------------------------

-- name: lock_dose_event
-- The dose and its medication, locked so that two answers to one dose are applied one after
-- the other (a double tap, or the same answer over two channels).
select d.id, d.status, d.medication_id, d.patient_id, d.due_at, d.snoozed_until,
       m.pill_count, m.pills_per_dose
  from dose_events d
  join medications m on m.id = d.medication_id
 where d.id = $1
   for update of d

-- name: set_dose_answer
update dose_events
   set status = $2, answered_at = $3, answered_channel = $4
 where id = $1

-- name: set_dose_snoozed
-- A snooze restarts the nag cycle: nag_count counts the follow-ups planned for the current reminder.
update dose_events
   set status = 'snoozed', snoozed_until = $2, answered_at = $3, answered_channel = $4,
       nag_count = 0
 where id = $1

-- name: cancel_dose_messages
-- Everything still waiting for this dose (reminder, follow-ups, caregiver alert). Rows a worker
-- has already claimed are left to it: its lease token guards them.
update scheduled_messages
   set status = 'cancelled', last_error = $2
 where dose_event_id = $1 and status = 'pending'

-- name: count_down_pills
-- Whole pills: a fractional dose rounds up, so a refill reminder comes early rather than late.
update medications
   set pill_count = greatest(0, pill_count - ceil(pills_per_dose)::integer)
 where id = $1 and pill_count is not null
returning pill_count

-- name: dose_reminder_template
-- The first reminder of a dose: a snooze reminder copies its payload and addressing.
select organization_id, payload, platform
  from scheduled_messages
 where dose_event_id = $1 and kind = 'medication_reminder'
 order by scheduled_time, created_at
 limit 1

-- name: insert_snooze_reminder
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, payload, priority, expires_at,
   idempotency_key, dose_event_id)
values ($1, $2, $3, $4, 'medication_reminder', $5, 1, $6, $7, $8)
on conflict (idempotency_key) do nothing

-- name: dose_for_message
select dose_event_id from scheduled_messages where id = $1
