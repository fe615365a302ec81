-- name: patient_quiet_window
-- The quiet window a patient's message waits out, as the dispatcher picks it
-- (scheduler/delivery_gate.py quiet_deferral): the patient's own ends, else their clinic's
-- default ones (else the service's: MEDREMIND_QUIET_HOURS_*), in the patient's zone. No row: no
-- such patient in organization $2.
select p.timezone, p.quiet_start, p.quiet_end, o.default_quiet_start, o.default_quiet_end
  from patients p join organizations o on o.id = p.organization_id
 where p.id = $1 and p.organization_id = $2
