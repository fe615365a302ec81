-- Messages waiting out a quiet window, judged again when the window changes
-- (scheduler/quiet_release.py). Not the dispatcher's claim or record: the dispatcher defers a
-- message (scheduler/delivery_gate.py) and claims it again at its new time.

-- name: deferred_messages
-- The messages of patient $2, or of every patient of clinic $4 (to them, or to their
-- caregivers), that the dispatcher deferred (last_error $3) to a window end after $1, with what
-- decides their window now (an appointment's start too: scheduler.quiet_hours.appointment_hold).
-- Each branch by its own index (patient's or clinic's, from $1 on),
-- never a scan of the table; the other branch's key is null and finds nothing. Not locked: the
-- update re-checks that a row is still pending (one a worker claimed meanwhile is its claim's).
select m.id, m.scheduled_time, m.caregiver_id is not null as caregiver,
       p.quiet_start, p.quiet_end, p.timezone, c.timezone as caregiver_timezone,
       o.default_quiet_start, o.default_quiet_end, m.kind, a.starts_at as appointment_starts_at
  from (select id, patient_id, caregiver_id, scheduled_time, kind, appointment_id
          from scheduled_messages
         where patient_id = $2 and scheduled_time > $1 and status = 'pending'
           and last_error = $3
        union all
        select id, patient_id, caregiver_id, scheduled_time, kind, appointment_id
          from scheduled_messages
         where organization_id = $4 and scheduled_time > $1 and status = 'pending'
           and last_error = $3) m
  join patients p on p.id = m.patient_id
  left join organizations o on o.id = p.organization_id
  left join caregivers c on c.id = m.caregiver_id
  left join appointments a on a.id = m.appointment_id

-- name: retime_deferred
-- New times ($2) and reasons ($3) of the messages $1, still pending and deferred ($4).
update scheduled_messages m
   set scheduled_time = u.at, last_error = u.reason, updated_at = now()
  from unnest($1::uuid[], $2::timestamptz[], $3::text[]) as u(id, at, reason)
 where m.id = u.id and m.status = 'pending' and m.last_error = $4

-- name: deferred_by_service_window
-- The messages deferred (last_error $2) to a window end after $1 whose window is the service's
-- (MEDREMIND_QUIET_HOURS_*): a patient's with no window of their own, or a caregiver's, whose
-- clinic has no default (or who has no clinic); with what decides it, as deferred_messages.
-- Read when the service's window changed (a worker started with another): once in a while, so
-- a walk of the pending rows due later is acceptable.
select m.id, m.scheduled_time, m.caregiver_id is not null as caregiver,
       p.quiet_start, p.quiet_end, p.timezone, c.timezone as caregiver_timezone,
       o.default_quiet_start, o.default_quiet_end, m.kind, a.starts_at as appointment_starts_at
  from scheduled_messages m
  join patients p on p.id = m.patient_id
  left join organizations o on o.id = p.organization_id
  left join caregivers c on c.id = m.caregiver_id
  left join appointments a on a.id = m.appointment_id
 where m.status = 'pending' and m.scheduled_time > $1 and m.last_error = $2
   and (o.default_quiet_start is null or o.default_quiet_end is null)
   and (m.caregiver_id is not null or p.quiet_start is null or p.quiet_end is null)

-- name: take_window_changes
-- The quiet windows changed (migration 20260101015310), each clinic and patient once, and null
-- for both when the service's own window changed (migration 20260101015600). Every note is read;
-- those noted more than $1 seconds ago are deleted: until then a claim made before the change
-- may still record a deferral by the old window, and the next pass judges it again.
with dropped as (
  delete from quiet_window_changes
   where noted_at < statement_timestamp() - make_interval(secs => $1)
)
select distinct organization_id, patient_id from quiet_window_changes

-- name: service_window
-- The service's window as the last worker to start wrote it (none yet: null).
select quiet_start, quiet_end from service_quiet_window where id

-- name: lock_service_window
-- The same, locked until the start-up's transaction ends: two workers starting at once note a
-- change once each, in turn.
select quiet_start, quiet_end from service_quiet_window where id for update

-- name: write_service_window
insert into service_quiet_window (id, quiet_start, quiet_end, updated_at)
values (true, $1, $2, now())
on conflict (id) do update
   set quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = now()

-- name: note_service_window_change
insert into quiet_window_changes (organization_id, patient_id) values (null, null)
