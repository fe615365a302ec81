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
-- hour holds fewer than $3 (the row's lock serializes web processes granting at once). A row:
-- granted, with the hour's count; none: the hour's share is taken. Hours more than a day before
-- $4 (now) are the clinic's no longer: removed on the way (migration 20260101017450).
with gone as (
  delete from api_priority_zero_hours
   where organization_id = $1 and hour < $4::timestamptz - interval '1 day'
)
insert into api_priority_zero_hours as q (organization_id, hour, messages)
select $1, date_trunc('hour', $2::timestamptz, 'UTC'), 1
 where $3::int > 0
on conflict (organization_id, hour) do update set messages = q.messages + 1
 where q.messages < $3::int
returning q.messages
