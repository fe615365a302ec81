-- Messages waiting out a quiet window, judged again when the window changes
-- (scheduler/quiet_release.py). Not the dispatcher's claim or record: the dispatcher defers a
-- message (scheduler/delivery_gate.py) and claims it again at its new time.

-- name: deferred_messages
-- The messages of patient $2, or of every patient of clinic $4 (to them, or to their
-- caregivers), that the dispatcher deferred (last_error $3) to a window end after $1, with what
-- decides their window now. Each branch by its own index (patient's or clinic's, from $1 on),
-- never a scan of the table; the other branch's key is null and finds nothing. Not locked: the
-- update re-checks that a row is still pending (one a worker claimed meanwhile is its claim's).
select m.id, m.scheduled_time, m.caregiver_id is not null as caregiver,
       p.quiet_start, p.quiet_end, p.timezone, c.timezone as caregiver_timezone,
       o.default_quiet_start, o.default_quiet_end
  from (select id, patient_id, caregiver_id, scheduled_time from scheduled_messages
         where patient_id = $2 and scheduled_time > $1 and status = 'pending'
           and last_error = $3
        union all
        select id, patient_id, caregiver_id, scheduled_time from scheduled_messages
         where organization_id = $4 and scheduled_time > $1 and status = 'pending'
           and last_error = $3) m
  join patients p on p.id = m.patient_id
  left join organizations o on o.id = p.organization_id
  left join caregivers c on c.id = m.caregiver_id

-- name: retime_deferred
-- New times ($2) and reasons ($3) of the messages $1, still pending and deferred ($4).
update scheduled_messages m
   set scheduled_time = u.at, last_error = u.reason, updated_at = now()
  from unnest($1::uuid[], $2::timestamptz[], $3::text[]) as u(id, at, reason)
 where m.id = u.id and m.status = 'pending' and m.last_error = $4

-- name: take_window_changes
-- The quiet windows changed since the last pass (migration 20260101015310), taken: each clinic
-- and patient once.
with taken as (
  delete from quiet_window_changes returning organization_id, patient_id
)
select distinct organization_id, patient_id from taken
