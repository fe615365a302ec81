-- name: patient_quiet_window
-- The quiet window a patient's message waits out, as the dispatcher picks it
-- (scheduler/delivery_gate.py quiet_deferral): the patient's own ends, else their clinic's
-- default ones (else the service's: MEDREMIND_QUIET_HOURS_*), in the patient's zone. No row: no
-- such patient in organization $2.
select p.timezone, p.quiet_start, p.quiet_end, o.default_quiet_start, o.default_quiet_end
  from patients p join organizations o on o.id = p.organization_id
 where p.id = $1 and p.organization_id = $2

-- name: take_priority_zero
-- One of clinic $1's priority-0 API messages in the clock hour (UTC) of $2, granted while the
-- hour holds fewer than $3; $4: now. A row: granted, with the hour's count; null: the hour's
-- share is taken. The function is the re-send's too (migration 20260101017650).
select public.take_priority_zero($1, $2, $3::int, $4)
