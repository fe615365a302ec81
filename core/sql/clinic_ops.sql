-- Clinic operations: statistics and appointment outcomes (medremind/web/api_v1/statistics.py,
-- outcomes.py).

-- name: organization_timezone
select timezone from organizations where id = $1

-- name: clinic_statistics
select public.clinic_statistics($1, $2, $3)

-- name: lock_appointment
select id, status, starts_at from appointments
 where id = $1 and organization_id = $2
   for update

-- name: set_appointment_outcome
-- The outcome of a past appointment; the planner has nothing left to send for it (planned_status
-- follows, so the sync tick leaves it alone).
update appointments set status = $3, planned_status = $3
 where id = $1 and organization_id = $2

-- name: withdraw_appointment_messages
update scheduled_messages set status = 'cancelled', last_error = 'appointment ' || $2
 where appointment_id = $1 and status = 'pending'

-- name: audit
insert into audit_log (organization_id, actor, action, entity, entity_id, details)
values ($1, $2, $3, $4, $5, $6)
