-- Messages waiting out a quiet window, judged again when the window changes
-- (scheduler/quiet_release.py). Not the dispatcher's claim or record: the dispatcher defers a
-- message (scheduler/delivery_gate.py) and claims it again at its new time.

-- name: deferred_messages
-- The messages of patient $2, or of every patient of clinic $4 (to them, or to their
-- caregivers), that the dispatcher deferred (last_error $3) to a window end after $1, with what
-- decides their window now. Rows being claimed are skipped: their claim decides with the window
-- it read. By the patient's or the clinic's index of the table, from $1 on.
select m.id, m.scheduled_time, m.caregiver_id is not null as caregiver,
       p.quiet_start, p.quiet_end, p.timezone, c.timezone as caregiver_timezone,
       o.default_quiet_start, o.default_quiet_end
  from scheduled_messages m
  join patients p on p.id = m.patient_id
  left join organizations o on o.id = p.organization_id
  left join caregivers c on c.id = m.caregiver_id
 where (m.patient_id = $2 or m.organization_id = $4) and m.scheduled_time > $1
   and m.status = 'pending' and m.last_error = $3
   for update of m skip locked

-- name: retime_deferred
-- New times ($2) and reasons ($3) of the messages $1, still pending.
update scheduled_messages m
   set scheduled_time = u.at, last_error = u.reason, updated_at = now()
  from unnest($1::uuid[], $2::timestamptz[], $3::text[]) as u(id, at, reason)
 where m.id = u.id and m.status = 'pending'

-- name: take_window_changes
-- The quiet windows changed since the last pass (migration 20260101015310), taken: each clinic
-- and patient once.
with taken as (
  delete from quiet_window_changes returning organization_id, patient_id
)
select distinct organization_id, patient_id from taken
