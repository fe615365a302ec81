-- Queries of the planner (scheduler/planner.py, scheduler/planning_*.py), dose answers
-- (scheduler/dose_answers.py) and appointments (scheduler/appointments.py).

-- ---------------------------------------------------------------------------------------------
-- Dose answers
-- ---------------------------------------------------------------------------------------------

-- name: lock_dose_event
-- The dose and its medication, locked so that two answers to one dose are applied one after
-- the other (a double tap, or the same answer over two channels).
-- reminders_paused: a snooze of a paused patient's dose is refused (no reminder would come).
select d.id, d.status, d.medication_id, d.patient_id, d.due_at, d.snoozed_until,
       m.pill_count, m.pills_per_dose, m.status as medication_status, p.reminders_paused
  from dose_events d
  join medications m on m.id = d.medication_id
  join patients p on p.id = d.patient_id
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
-- The snoozed dose's medication decides the priority: a time-critical one stays first (0). It
-- expires a reminder's default expiry after its time (public.message_default_expiry).
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, payload, priority, expires_at,
   idempotency_key, dose_event_id)
select $1, $2, $3, $4, 'medication_reminder',
       ($5::jsonb - 'medicine_number') || coalesce(l.label, '{}'::jsonb),
       case when m.time_critical then 0 else 1 end,
       $3::timestamptz + public.message_default_expiry('medication_reminder'), $6, $7
  from dose_events d
  join medications m on m.id = d.medication_id
  -- The number as the patient's list has it now (migration 20260101011200).
  left join lateral public.medicine_labels(array[d.patient_id]) l on l.medication_id = m.id
 where d.id = $7
on conflict (idempotency_key) do nothing

-- name: dose_for_message
select dose_event_id from scheduled_messages where id = $1

-- ---------------------------------------------------------------------------------------------
-- Pause (scheduler/holds.py)
-- ---------------------------------------------------------------------------------------------

-- name: set_reminders_paused
-- $3: when the pause ends by itself (null: open-ended; a resume's, always null). A new pause
-- replaces the end of the one before. $4: who paused ('patient', 'clinic'; a resume's, null).
update patients
   set reminders_paused = $2, reminders_paused_until = $3::timestamptz, reminders_paused_by = $4
 where id = $1

-- name: ended_pauses
-- Patients whose pause with an end has ended by $1, oldest end first, at most $2 (the partial
-- index patients_pause_ends, migration 20260101018260), with the quiet window their notice may
-- wait out (scheduler/pause_notice.py). Locked, skipping a row a /pause or /resume holds: that
-- turn decides, and the next tick reads its outcome. $3: these patients only, or null for all;
-- $4: patients left out (their pause end failed before, scheduler/planning_steps.py).
select p.id, p.reminders_paused_until, p.timezone, p.quiet_start, p.quiet_end,
       o.default_quiet_start, o.default_quiet_end
  from patients p
  left join organizations o on o.id = p.organization_id
 where p.reminders_paused and p.reminders_paused_until is not null
   and p.reminders_paused_until <= $1::timestamptz
   and ($3::uuid[] is null or p.id = any($3::uuid[])) and p.id <> all($4::uuid[])
 order by p.reminders_paused_until
 limit $2
   for update of p skip locked

-- name: first_chosen_reminder
-- The patient's ($1) first pending message of the kinds sent at the time they chose ($2: quiet
-- hours never hold them), and its claim priority.
select scheduled_time, priority from scheduled_messages
 where patient_id = $1 and status = 'pending' and kind = any($2::text[])
 order by scheduled_time
 limit 1

-- name: waiting_pause_notices
-- The "reminders are back on" (pause_ended) still waiting of the patients $1 whose reminders were
-- re-planned, with what its slot needs (as ended_pauses: the quiet window, the zone); a row a
-- worker holds is skipped (scheduler/pause_notice.py reslot_pause_notices).
select m.id as notice_id, m.scheduled_time, m.priority, m.urgent,
       p.id, p.timezone, p.quiet_start, p.quiet_end,
       o.default_quiet_start, o.default_quiet_end
  from scheduled_messages m
  join patients p on p.id = m.patient_id
  left join organizations o on o.id = p.organization_id
 where m.patient_id = any($1::uuid[]) and m.status = 'pending' and m.kind = 'system'
   and m.template = 'pause_ended'
   for update of m skip locked

-- name: move_pause_notice
-- That notice ($1) at its new slot: due at $2, claim priority $3, $4: quiet hours do not hold it.
update scheduled_messages set scheduled_time = $2, priority = $3, urgent = $4
 where id = $1 and status = 'pending'

-- name: tell_pause_ended
-- The patient's one "reminders are back on" (template pause_ended, kind system) at $2: on their
-- preferred channel ('auto'), once per pause's end (the key), worth sending for $4; $6: quiet
-- hours do not hold it (it goes right before a reminder due inside them: pause_notice.py).
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, template, payload, priority,
   expires_at, idempotency_key, urgent)
select p.organization_id, p.id, $2::timestamptz, 'auto', 'system', 'pause_ended', '{}'::jsonb,
       $5::smallint, $2::timestamptz + $4::interval,
       format('pause_end:%s:%s', p.id, extract(epoch from $3::timestamptz)), $6::boolean
  from patients p
 where p.id = $1 and p.status = 'active'
on conflict (idempotency_key) do nothing

-- name: withdraw_pause_ended
-- A new pause ($1 the patient) cancels the "reminders are back on" of the one before, still
-- waiting (for the end of quiet hours, or a reminder's time: scheduler/pause_notice.py) with
-- reason $2: sent during the new pause, it would say the reminders are on while they are off.
update scheduled_messages set status = 'cancelled', last_error = $2
 where patient_id = $1 and status = 'pending' and kind = 'system' and template = 'pause_ended'

-- name: withdraw_clinic_pause_notices
-- A change of the patient's ($1) pause cancels the clinic's notices of templates $3
-- ('clinic_paused', 'clinic_resumed') still waiting (quiet hours hold them) with reason $2:
-- only the latest is true. Returns the templates cancelled (a resume whose "paused" was never
-- sent need not be announced either).
update scheduled_messages set status = 'cancelled', last_error = $2
 where patient_id = $1 and status = 'pending' and kind = 'system'
   and template = any($3::text[])
returning template

-- name: tell_clinic_pause
-- The patient's notice ($2: template clinic_paused or clinic_resumed, kind system) that their
-- clinic paused (payload $3: ends_at, or none: until resumed) or resumed their reminders, due at
-- $4 on their preferred channel, held by quiet hours as service notices are, worth sending until
-- $5 (a "paused until" never after that end), claim priority $6; once per change (the key: $4).
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, template, payload, priority,
   expires_at, idempotency_key)
select p.organization_id, p.id, $4::timestamptz, 'auto', 'system', $2::text, $3::jsonb,
       $6::smallint, $5::timestamptz,
       format('%s:%s:%s', $2::text, p.id, extract(epoch from $4::timestamptz))
  from patients p
 where p.id = $1 and p.status = 'active'
on conflict (idempotency_key) do nothing

-- name: withdraw_medication_messages
-- A pause: cancel the patient's ($1) pending messages of the medication kinds ($2) with reason
-- $3, so nothing nags or alerts a caregiver while paused. A dose already due at the pause ($4:
-- now) stays open, due or snoozed, and so answerable (/today, its reminder's buttons or number):
-- unanswered, it is missed at its usual time with no caregiver alert (mark_missed); its status
-- says what happened, as 'cancelled' did not. Doses ahead go with the re-plan (a snoozed one here).
-- A withdrawn refill notice is re-armed (refill_reminded_at cleared) so the planner sends it
-- again after the resume. Rows a worker has claimed are left to its lease: the dispatcher
-- re-checks the pause itself. Returns how many messages were withdrawn.
with withdrawn as (
  update scheduled_messages
     set status = 'cancelled', last_error = $3
   where patient_id = $1 and status = 'pending' and kind = any($2::text[])
  returning kind, payload
), doses as (
  update dose_events set status = 'cancelled'
   where patient_id = $1 and status in ('due', 'snoozed') and due_at > $4
), rearmed as (
  update medications m set refill_reminded_at = null
    from withdrawn w
   where w.kind = 'refill_reminder' and m.patient_id = $1
     and m.id::text = w.payload ->> 'medication_id'
)
select count(*) from withdrawn

-- name: paused_reminders
-- A resume ($1 the patient, $2 the pauses' reasons): the latest reminder of each open dose (due,
-- or snoozed: its snooze's reminder) that the pause withheld (withdrawn while queued at the
-- pause, or held back at its send), so never sent, with what its missed mark needs.
-- scheduler/holds.py decides which come back, and when. A medicine paused or deleted meanwhile
-- is reminded of no more.
select s.id, s.scheduled_time, s.expires_at, d.status, d.due_at, d.snoozed_until,
       p.nag_interval_minutes, p.nag_max
  from dose_events d
  join patients p on p.id = d.patient_id
  join medications md on md.id = d.medication_id and md.status = 'active'
  join lateral (
    select m.id, m.status, m.last_error, m.scheduled_time, m.expires_at
      from scheduled_messages m
     where m.dose_event_id = d.id and m.kind = 'medication_reminder'
     order by m.scheduled_time desc, m.created_at desc
     limit 1
  ) s on true
 where d.patient_id = $1
   and (d.status = 'due' or d.status = 'snoozed' and d.snoozed_until = s.scheduled_time)
   and s.status = 'cancelled' and s.last_error = any($2::text[])

-- name: restore_paused_reminders
-- Those reminders ($1) pending again, each at its time ($2) and expiry ($3). The same rows, so
-- one reminder at most per dose (no copy to send twice).
update scheduled_messages s
   set status = 'pending', scheduled_time = u.at, expires_at = u.expires_at, last_error = null,
       attempts = 0, locked_by = null, locked_until = null, lease_token = null,
       channels_tried = '{}'
  from unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) as u(id, at, expires_at)
 where s.id = u.id and s.status = 'cancelled'

-- ---------------------------------------------------------------------------------------------
-- Materialization: schedules -> dose_events + medication_reminder rows
-- ---------------------------------------------------------------------------------------------

-- name: try_planner_lock
-- One planner at a time across workers; transaction-scoped so it works behind a pooler.
select pg_try_advisory_xact_lock($1)

-- name: schedules_to_plan
-- Schedules marked for re-planning (planned_until null: new, edited, or their patient changed)
-- and wanted ones running out of horizon ($1 = the refill threshold). Rows another transaction
-- is re-planning right now are skipped. `wanted` says whether reminders should exist at all.
-- A schedule that failed to plan (planner_failures) is left out: each tick tries it on its own.
select s.id, s.medication_id, s.patient_id, s.times_of_day, s.days_of_week, s.every_n_days,
       s.start_date, s.end_date, s.max_count, s.timezone, s.version, s.planned_until,
       p.organization_id, p.timezone as patient_timezone, p.timezone_mode, p.home_timezone,
       (s.status = 'active' and m.status = 'active' and p.status = 'active'
        and p.consent_at is not null and not p.reminders_paused
        and not public.patient_opted_out(p.id, 'medication')) as wanted,
       -- No channel takes a reminder: lost every one (migration 20260101013300), or, not
       -- linked yet (nothing reached them, 20260101013800), has none usable: doses, but
       -- 'unreachable' ones. A patient not linked yet with a usable channel is reminded.
       p.unreachable_since is null
         and (p.linked_at is not null or public.patient_reachable(p.id)) as reachable,
       -- The 08:00 peak (scheduler/planning_peaks.py): priority and the early window.
       m.time_critical, p.quiet_start, p.quiet_end, o.default_quiet_start, o.default_quiet_end,
       coalesce((o.early_send_seconds->>'medication_reminder')::float8, 0) as early_seconds
  from reminder_schedules s
  join patients p on p.id = s.patient_id
  join medications m on m.id = s.medication_id
  left join organizations o on o.id = p.organization_id
 where (s.planned_until is null
        or (s.planned_until < $1 and s.status = 'active' and m.status = 'active'
            and p.status = 'active' and p.consent_at is not null and not p.reminders_paused
            and not public.patient_opted_out(p.id, 'medication')))
   -- One that failed is tried on its own (failed_schedules_to_retry), not in every batch.
   and not exists (select from planner_failures f where f.schedule_id = s.id)
 order by s.planned_until nulls first, s.id
 limit $2
   for update of s skip locked

-- name: schedules_by_id
-- The same rows for an explicit re-plan, waiting for a concurrent planner instead of skipping.
select s.id, s.medication_id, s.patient_id, s.times_of_day, s.days_of_week, s.every_n_days,
       s.start_date, s.end_date, s.max_count, s.timezone, s.version, s.planned_until,
       p.organization_id, p.timezone as patient_timezone, p.timezone_mode, p.home_timezone,
       (s.status = 'active' and m.status = 'active' and p.status = 'active'
        and p.consent_at is not null and not p.reminders_paused
        and not public.patient_opted_out(p.id, 'medication')) as wanted,
       -- No channel takes a reminder: lost every one (migration 20260101013300), or, not
       -- linked yet (nothing reached them, 20260101013800), has none usable: doses, but
       -- 'unreachable' ones. A patient not linked yet with a usable channel is reminded.
       p.unreachable_since is null
         and (p.linked_at is not null or public.patient_reachable(p.id)) as reachable,
       -- The 08:00 peak (scheduler/planning_peaks.py): priority and the early window.
       m.time_critical, p.quiet_start, p.quiet_end, o.default_quiet_start, o.default_quiet_end,
       coalesce((o.early_send_seconds->>'medication_reminder')::float8, 0) as early_seconds
  from reminder_schedules s
  join patients p on p.id = s.patient_id
  join medications m on m.id = s.medication_id
  left join organizations o on o.id = p.organization_id
 where s.id = any($1::uuid[])
 order by s.id
   for update of s

-- name: schedule_ids_of_patient
select id from reminder_schedules where patient_id = $1 order by id

-- name: pin_home_timezones
-- Pin the home zone of 'home'-mode patients planned for the first time ($1 ids, $2 the zone the
-- planner read). Locked patient rows are skipped: a concurrent settings change re-plans anyway.
with locked as (
  select p.id
    from unnest($1::uuid[], $2::text[]) as u(id, timezone)
    join patients p on p.id = u.id and p.timezone = u.timezone
   where p.home_timezone is null and p.timezone_mode = 'home'
     for update of p skip locked
)
update patients p set home_timezone = p.timezone from locked where p.id = locked.id

-- name: cancel_unwanted_doses
-- Future doses of re-planned schedules ($1) that the new plan (the wanted arrays) no longer has,
-- and everything still pending for them. Doses already answered are kept as they are; so are
-- those planned 'unreachable' that the plan still has (the insert makes them due again).
with wanted as (
  select * from unnest($2::uuid[], $3::timestamptz[], $4::date[], $5::time[])
    as w(schedule_id, due_at, local_date, local_time)
),
gone as (
  update dose_events d
     set status = 'cancelled'
   where d.schedule_id = any($1::uuid[]) and d.status in ('due', 'unreachable')
     and d.due_at > $6
     and not exists (
       select 1 from wanted w
        where w.schedule_id = d.schedule_id and w.due_at = d.due_at
          and w.local_date = d.local_date and w.local_time = d.local_time)
  returning d.id
),
messages as (
  update scheduled_messages m
     set status = 'cancelled', last_error = 'no longer planned'
    from gone
   where m.dose_event_id = gone.id and m.status = 'pending'
  returning m.id
)
select (select count(*) from gone) as doses, (select count(*) from messages) as messages

-- name: insert_doses
-- Bulk materialization, one row per occurrence, for schedules still at the version planned. A
-- dose that exists stays as it is (idempotent); one cancelled by an earlier re-plan comes back.
-- Returns only new or revived doses: those are the ones that need a reminder. A dose ahead ($6:
-- now) planned 'unreachable' is revived too: the patient can be reached again. A date's dose at
-- a time of day is planned once: a patient moved west after it (its reminder sent, or it past)
-- finds that wall time ahead again in the new zone, and a second dose then got no reminder (the
-- key is the local date and time) and stayed 'due' forever. The other zone's instant is within
-- 27 hours (UTC offsets span -12 to +14), which keeps the look-up on the unique index.
insert into dose_events (schedule_id, medication_id, patient_id, due_at, local_date, local_time)
select o.schedule_id, s.medication_id, s.patient_id, o.due_at, o.local_date, o.local_time
  from unnest($1::uuid[], $2::timestamptz[], $3::date[], $4::time[], $5::integer[])
         as o(schedule_id, due_at, local_date, local_time, version)
  join reminder_schedules s on s.id = o.schedule_id and s.version = o.version
 where not exists (
         select 1 from dose_events e
          where e.schedule_id = o.schedule_id
            and e.due_at between o.due_at - interval '27 hours' and o.due_at + interval '27 hours'
            and e.due_at <> o.due_at and e.local_date = o.local_date
            and e.local_time = o.local_time and e.status <> 'cancelled')
on conflict (schedule_id, due_at) do update
   set status = 'due', local_date = excluded.local_date, local_time = excluded.local_time,
       nag_count = 0, snoozed_until = null, answered_at = null, answered_channel = null,
       caregiver_alerted_at = null
 where dose_events.status = 'cancelled'
    or (dose_events.status = 'unreachable' and dose_events.due_at > $6)
returning id, schedule_id, due_at

-- name: insert_unreachable_doses
-- The doses of patients no channel can reach (patients.unreachable_since, migration
-- 20260101013300): recorded as 'unreachable', with no reminder. A dose ahead planned before
-- (due, or cancelled by a pause) becomes 'unreachable' and everything pending for it is
-- cancelled; answered or missed doses stay as they are. Arrays as insert_doses; $6: now. A
-- date's dose at a time of day already planned at another instant is not planned again (as in
-- insert_doses).
with doses as (
  insert into dose_events
    (schedule_id, medication_id, patient_id, due_at, local_date, local_time, status)
  select o.schedule_id, s.medication_id, s.patient_id, o.due_at, o.local_date, o.local_time,
         'unreachable'
    from unnest($1::uuid[], $2::timestamptz[], $3::date[], $4::time[], $5::integer[])
           as o(schedule_id, due_at, local_date, local_time, version)
    join reminder_schedules s on s.id = o.schedule_id and s.version = o.version
   where not exists (
           select 1 from dose_events e
            where e.schedule_id = o.schedule_id
              and e.due_at between o.due_at - interval '27 hours'
                               and o.due_at + interval '27 hours'
              and e.due_at <> o.due_at and e.local_date = o.local_date
              and e.local_time = o.local_time and e.status <> 'cancelled')
  on conflict (schedule_id, due_at) do update
     set status = 'unreachable', local_date = excluded.local_date,
         local_time = excluded.local_time, nag_count = 0, snoozed_until = null
   where dose_events.status in ('due', 'cancelled') and dose_events.due_at > $6
  returning id
), messages as (
  update scheduled_messages m
     set status = 'cancelled', last_error = 'the patient cannot be reached'
    from doses
   where m.dose_event_id = doses.id and m.status = 'pending'
  returning m.id
)
select (select count(*) from doses) as doses, (select count(*) from messages) as messages

-- name: insert_reminders
-- The reminders of new or revived doses, keyed per schedule, local date and time and version
-- (scheduler.planning_rules.reminder_key). A cancelled reminder with that key (pause, then
-- resume) comes back; a live one is left alone. $7: each one's priority (time-critical doses
-- first); $8: when each is sent, its dose's time or, in a forecast peak, up to its clinic's early
-- window before it (scheduler/planning_peaks.py); it expires by its dose's time plus a reminder's
-- default expiry (public.message_default_expiry, the one place that holds it).
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, payload, priority, expires_at,
   idempotency_key, dose_event_id, message_content)
select u.organization_id, u.patient_id, u.send_at, 'auto', 'medication_reminder',
       u.payload || coalesce(l.label, '{}'::jsonb),
       u.priority, u.due_at + public.message_default_expiry('medication_reminder'), u.key,
       u.dose_id, null
  from unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::jsonb[], $5::text[], $6::uuid[],
              $7::smallint[], $8::timestamptz[])
         as u(organization_id, patient_id, due_at, payload, key, dose_id, priority, send_at)
  -- The medicine's number where the patient has several (migration 20260101011200).
  left join public.medicine_labels($2::uuid[]) l
         on l.medication_id = (u.payload ->> 'medication_id')::uuid
on conflict (idempotency_key) do update
   set status = 'pending', scheduled_time = excluded.scheduled_time,
       expires_at = excluded.expires_at, payload = excluded.payload,
       dose_event_id = excluded.dose_event_id, attempts = 0, last_error = null,
       locked_by = null, locked_until = null, lease_token = null, channels_tried = '{}'
 where scheduled_messages.status = 'cancelled'
returning id

-- name: set_planned_until
update reminder_schedules s
   set planned_until = u.until
  from unnest($1::uuid[], $2::timestamptz[]) as u(id, until)
 where s.id = u.id

-- ---------------------------------------------------------------------------------------------
-- Follow-ups: nags, the missed mark, caregiver alerts
-- ---------------------------------------------------------------------------------------------

-- name: open_doses
-- Doses waiting for an answer (due or snoozed) with their latest reminder, locked so that an
-- answer arriving meanwhile waits for this pass (and one being recorded is skipped, not raced).
-- $2: these patients only, or null for all; $3: patients left out (their pass failed before:
-- scheduler/planning_steps.py). `active` says whether the patient may be messaged.
select d.id, d.status, d.due_at, d.snoozed_until, d.patient_id, d.nag_count,
       p.nag_interval_minutes, p.nag_max, p.timezone,
       coalesce(p.quiet_start, o.default_quiet_start) as quiet_start,
       coalesce(p.quiet_end, o.default_quiet_end) as quiet_end,
       p.organization_id is not null as has_organization,
       (p.status = 'active' and p.consent_at is not null and not p.reminders_paused) as active,
       -- Lost every channel, or not linked yet and none usable (migrations 20260101013300,
       -- 20260101013800).
       p.unreachable_since is null
         and (p.linked_at is not null or public.patient_reachable(p.id)) as reachable,
       r.status as reminder_status, r.sent_at as reminder_sent_at,
       r.last_error as reminder_error
  from dose_events d
  join patients p on p.id = d.patient_id
  left join organizations o on o.id = p.organization_id
  join lateral (
    -- A reminder still pending past its expires_at is never sent (the dispatcher expires it
    -- when it claims it): read as expired, so a dose whose reminder died unsent (a worker away
    -- for hours) is missed at this pass, not at the pass after the claim.
    select case when m.status = 'pending' and m.expires_at <= $1 then 'expired'
                else m.status end as status,
           m.sent_at, m.last_error
      from scheduled_messages m
     where m.dose_event_id = d.id and m.kind = 'medication_reminder'
     order by m.scheduled_time desc, m.created_at desc
     limit 1
  ) r on true
 where d.status in ('due', 'snoozed') and d.due_at <= $1 and d.due_at > $1 - interval '7 days'
   and ($2::uuid[] is null or d.patient_id = any($2::uuid[]))
   and d.patient_id <> all($3::uuid[])
   for update of d skip locked

-- name: cancel_unwanted_followups
-- Future pending follow-ups of the scanned doses that the plan no longer has (an answer, a
-- snooze, quiet hours or the nag settings changed). Due ones are left to the dispatcher.
update scheduled_messages
   set status = 'cancelled', last_error = 'follow-up no longer planned'
 where dose_event_id = any($1::uuid[]) and kind = 'dose_followup' and status = 'pending'
   and scheduled_time > $2 and idempotency_key <> all($3::text[])

-- name: insert_followups
-- One row per wanted follow-up; existing ones stay, cancelled ones come back, and pending ones
-- move when the plan's time changed (the patient changed their nag interval meanwhile).
-- The medicine's number where the patient has several (migration 20260101011200), computed once
-- for the batch's patients.
with labels as (
  select * from public.medicine_labels(
    array(select d.patient_id from dose_events d where d.id = any($1::uuid[])))
)
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, payload, priority, expires_at,
   idempotency_key, dose_event_id, message_content)
select p.organization_id, d.patient_id, u.at, 'auto', 'dose_followup',
       -- The time the patient set (core/dose_times.py: named by it where clocks sprang over it).
       jsonb_build_object('dose_event_id', d.id, 'medication_id', d.medication_id,
                          'followup', u.number, 'of', p.nag_max,
                          'local_date', d.local_date, 'local_time', d.local_time)
         || coalesce(l.label, '{}'::jsonb),
       $5::smallint, u.expires_at, u.key, d.id, null
  from unnest($1::uuid[], $2::integer[], $3::timestamptz[], $4::text[], $6::timestamptz[])
         as u(dose_id, number, at, key, expires_at)
  join dose_events d on d.id = u.dose_id
  join patients p on p.id = d.patient_id
  left join labels l on l.medication_id = d.medication_id
on conflict (idempotency_key) do update
   set status = 'pending', scheduled_time = excluded.scheduled_time,
       expires_at = excluded.expires_at, payload = excluded.payload, attempts = 0,
       last_error = null, locked_by = null, locked_until = null, lease_token = null,
       channels_tried = '{}'
 where scheduled_messages.status = 'cancelled'
    or (scheduled_messages.status = 'pending'
        and scheduled_messages.scheduled_time <> excluded.scheduled_time)
returning id

-- name: set_nag_counts
update dose_events d
   set nag_count = u.n
  from unnest($1::uuid[], $2::integer[]) as u(id, n)
 where d.id = u.id and d.nag_count <> u.n

-- name: mark_unreachable
-- Open doses ($1) of patients no channel can reach whose reminder never went out: 'unreachable',
-- not missed (nobody reminded them; no caregiver alert), and whatever is pending for them (a
-- snoozed reminder, follow-ups) cancelled.
with doses as (
  update dose_events d
     set status = 'unreachable'
   where d.id = any($1::uuid[]) and d.status in ('due', 'snoozed')
  returning d.id
), messages as (
  update scheduled_messages m
     set status = 'cancelled', last_error = 'the patient cannot be reached'
    from doses
   where m.dose_event_id = doses.id and m.status = 'pending'
  returning m.id
)
select (select count(*) from doses) as doses, (select count(*) from messages) as messages

-- name: patient_unreachable
-- Whether no channel reaches patient $1 now (planning_followups.catch_up_before_return).
select unreachable_since is not null from patients where id = $1

-- name: mark_missed_unreminded
-- Doses ($1) past their missed mark whose reminder never went out (a pause withheld it, or it
-- expired or failed unsent: scheduler/planning_followups.py): missed, with no caregiver alert (as mark_missed would plan once the patient has resumed), since that would
-- say the patient ignored a reminder they never got. Pending follow-ups, if any, are cancelled.
with missed as (
  update dose_events set status = 'missed'
   where id = any($1::uuid[]) and status in ('due', 'snoozed')
  returning id
), stopped as (
  update scheduled_messages m
     set status = 'cancelled', last_error = 'dose missed'
    from missed
   where m.dose_event_id = missed.id and m.kind = 'dose_followup' and m.status = 'pending'
)
select count(*) from missed

-- name: mark_missed
-- Doses past their last follow-up without an answer, their pending follow-ups cancelled, and one
-- alert per active (and, where it must be, proven) caregiver of a patient who may be messaged,
-- alert_delay_minutes after the miss. The alert names the medication (for the template) only where the patient allowed it.
-- A caregiver who opted out (STOP) or cannot be reached gets none (migration 20260101012200).
-- Where the patient has several active medicines the alert says which dose by its /meds number
-- (`medicine_number`, as the patient's own reminders do: migration 20260101011200), so two doses
-- missed at the same time do not read alike; the name still only with the patient's consent.
-- A Telegram caregiver whose chat id was typed in and never linked (awaiting_link_since,
-- migration 20260101014300) gets its alert recorded cancelled, with the reason, not sent.
with missed as (
  update dose_events d
     set status = 'missed'
    from unnest($1::uuid[], $2::timestamptz[]) as u(id, missed_at)
   where d.id = u.id and d.status in ('due', 'snoozed')
  returning d.id, d.patient_id, d.medication_id, u.missed_at, d.local_date, d.local_time
),
stopped as (
  update scheduled_messages m
     set status = 'cancelled', last_error = 'dose missed'
    from missed
   where m.dose_event_id = missed.id and m.kind = 'dose_followup' and m.status = 'pending'
  returning m.id
),
alerts as (
  insert into scheduled_messages
    (organization_id, patient_id, caregiver_id, scheduled_time, platform, kind, payload, priority,
     expires_at, idempotency_key, dose_event_id, message_content, allow_fallback, status,
     last_error)
  select p.organization_id, x.patient_id, c.id,
         x.missed_at + make_interval(mins => c.alert_delay_minutes), c.channel,
         'missed_dose_caregiver',
         jsonb_build_object('dose_event_id', x.id, 'share_details', c.share_details,
                            'local_date', x.local_date, 'local_time', x.local_time)
           || case when c.share_details
                   then jsonb_build_object('medication_id', x.medication_id)
                   else '{}'::jsonb end
           || coalesce(l.label, '{}'::jsonb),
         $3::smallint,
         x.missed_at + make_interval(mins => c.alert_delay_minutes) + $4::interval,
         format('caregiver:%s:%s', x.id, c.id), x.id, null, false,
         case when c.awaiting_link_since is null then 'pending' else 'cancelled' end,
         case when c.awaiting_link_since is not null then public.awaiting_link_reason() end
    from missed x
    join patients p on p.id = x.patient_id
    join caregivers c on c.patient_id = x.patient_id and c.active
                     and c.opted_out_at is null and c.blocked_at is null
    left join public.medicine_labels(array(select distinct patient_id from missed)) l
           on l.medication_id = x.medication_id
   where p.status = 'active' and p.consent_at is not null and not p.reminders_paused
     -- A patient no channel reaches: their caregivers had one notice instead of an alert a
     -- dose (migration 20260101013300).
     and p.unreachable_since is null
     -- A number a patient of no clinic typed gets alerts once it has written to us
     -- (migration 20260101011510): else anyone could have any number texted (SMS pumping).
     and (c.proven_at is not null or p.organization_id is not null
          or c.channel not in ('sms', 'whatsapp'))
  -- One alert per dose and caregiver (the key): an alert sent, or waiting, stays as it is. One
  -- withdrawn because the patient snoozed the missed dose comes back when the snoozed reminder
  -- is missed too, at its new time (a patient who snoozes and forgets is still reported).
  on conflict (idempotency_key) do update
     set status = excluded.status, scheduled_time = excluded.scheduled_time,
         expires_at = excluded.expires_at, payload = excluded.payload, attempts = 0,
         last_error = excluded.last_error, locked_by = null, locked_until = null,
         lease_token = null, channels_tried = '{}'
   where scheduled_messages.status = 'cancelled'
  returning id, status
)
select (select count(*) from missed) as missed,
       (select count(*) from alerts where status = 'pending') as alerts

-- name: plan_unreachable_notices
-- The caregivers' one notice that reminders no longer reach the patient (migration
-- 20260101013300), for patients whose spell is marked (unreachable_notice_pending; $3: these
-- patients, or null for all; $5: patients left out, scheduler/planning_steps.py): to each caregiver a missed dose would alert (mark_missed), after
-- their alert_delay_minutes from $1, at most one a day per caregiver and patient (STOP, START,
-- STOP...), and only for a patient who has reminders to miss. The mark is cleared either way.
-- $2: the priority; $4: how long the notice stays worth sending (the caregiver's quiet hours).
-- A Telegram caregiver awaiting its link (migration 20260101014300): recorded cancelled, unsent.
with spells as (
  update patients p set unreachable_notice_pending = false
   where p.unreachable_notice_pending and ($3::uuid[] is null or p.id = any($3::uuid[]))
     and p.id <> all($5::uuid[])
  returning p.id, p.organization_id, p.status, p.consent_at, p.reminders_paused,
            p.unreachable_since
)
insert into scheduled_messages
  (organization_id, patient_id, caregiver_id, scheduled_time, platform, kind, template, payload,
   priority, expires_at, idempotency_key, message_content, allow_fallback, status, last_error)
select f.organization_id, f.id, c.id, $1::timestamptz + make_interval(mins => c.alert_delay_minutes),
       c.channel, 'missed_dose_caregiver', 'patient_unreachable_caregiver', '{}'::jsonb,
       $2::smallint, $1::timestamptz + make_interval(mins => c.alert_delay_minutes) + $4::interval,
       format('unreachable:%s:%s', c.id, extract(epoch from f.unreachable_since)), null, false,
       case when c.awaiting_link_since is null then 'pending' else 'cancelled' end,
       case when c.awaiting_link_since is not null then public.awaiting_link_reason() end
  from spells f
  join caregivers c on c.patient_id = f.id and c.active and c.opted_out_at is null
                   and c.blocked_at is null
 where f.unreachable_since is not null
   and f.status = 'active' and f.consent_at is not null and not f.reminders_paused
   and not public.patient_opted_out(f.id, 'medication')
   and (c.proven_at is not null or f.organization_id is not null
        or c.channel not in ('sms', 'whatsapp'))
   and exists (select 1 from reminder_schedules s join medications m on m.id = s.medication_id
                where s.patient_id = f.id and s.status = 'active' and m.status = 'active')
   and not exists (select 1 from scheduled_messages n
                    where n.caregiver_id = c.id and n.patient_id = f.id
                      and n.template = 'patient_unreachable_caregiver'
                      and n.status <> 'cancelled'
                      and n.scheduled_time > $1::timestamptz - interval '24 hours')
on conflict (idempotency_key) do nothing
returning id

-- ---------------------------------------------------------------------------------------------
-- Refills
-- ---------------------------------------------------------------------------------------------

-- name: plan_refills
-- Medications with a pill count that runs out within refill_days_before days at the rate of
-- their active schedules (times a day x share of weekdays / every N days x whole pills a dose),
-- not yet reminded for this count window: refill_reminded_at is claimed in the same statement
-- (a second planner finds it set) and cleared by a trigger when the count goes up (a refill).
-- The key is the medication and the claim's time: one reminder per count window.
-- $3: these patients only, or null for all; $4: patients left out (scheduler/planning_steps.py).
with low as (
  select m.id, m.patient_id, p.organization_id, m.pill_count,
         ceil(m.pills_per_dose)::integer as per_dose, r.doses_per_day,
         (($1::timestamptz at time zone p.timezone)::date
           + floor(m.pill_count / (r.doses_per_day * ceil(m.pills_per_dose)))::integer) as runs_out
    from medications m
    join patients p on p.id = m.patient_id
    cross join lateral (
      select sum(cardinality(s.times_of_day)::numeric * coalesce(cardinality(s.days_of_week), 7)
                 / 7 / coalesce(s.every_n_days, 1)) as doses_per_day
        from reminder_schedules s
       where s.medication_id = m.id and s.status = 'active'
         and (s.end_date is null or s.end_date >= ($1::timestamptz at time zone p.timezone)::date)
    ) r
   where m.status = 'active' and m.pill_count is not null and m.refill_reminded_at is null
     and r.doses_per_day > 0
     and p.status = 'active' and p.consent_at is not null and not p.reminders_paused
     and m.pill_count <= r.doses_per_day * ceil(m.pills_per_dose) * m.refill_days_before
     and ($3::uuid[] is null or m.patient_id = any($3::uuid[])) and m.patient_id <> all($4::uuid[])
     for update of m skip locked
),
claimed as (
  update medications m set refill_reminded_at = $1
    from low
   where m.id = low.id and m.refill_reminded_at is null
  returning low.*
)
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, payload, priority, expires_at,
   idempotency_key, message_content)
select c.organization_id, c.patient_id, $1, 'auto', 'refill_reminder',
       jsonb_build_object('medication_id', c.id, 'doses_left', c.pill_count / c.per_dose,
                          'runs_out_on', to_char(c.runs_out, 'YYYY-MM-DD')),
       $2::smallint, $1 + interval '3 days',
       format('refill:%s:%s', c.id,
              to_char($1::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')), null
  from claimed c
on conflict (idempotency_key) do nothing
returning id

-- ---------------------------------------------------------------------------------------------
-- Appointments
-- ---------------------------------------------------------------------------------------------

-- name: lock_appointment
-- The appointment with what planning it needs, locked for the caller's transaction.
-- patient_offsets: the patient's standing offsets; appointments_opted_out: the patient's (else
-- the clinic's) choice for the 'appointments' category (migration 20260101009710).
select a.id, a.organization_id, a.patient_id, a.starts_at, a.status, a.reminder_offsets,
       a.planned_starts_at, a.planned_status, p.timezone, p.status as patient_status, p.consent_at, p.reminders_paused,
       o.appointment_reminder_offsets, o.caps,
       p.appointment_reminder_offsets as patient_offsets,
       public.patient_opted_out(p.id, 'appointments') as appointments_opted_out
  from appointments a
  join patients p on p.id = a.patient_id
  join organizations o on o.id = a.organization_id
 where a.id = $1
   for update of a

-- name: lock_patient_for_caps
-- Serializes appointment planning per patient so two bookings cannot both slip under a cap.
-- NO KEY UPDATE: foreign-key inserts of other transactions are not blocked by it.
select id from patients where id = $1 for no key update

-- name: count_capped_messages
-- Appointment reminders a patient already has (or had) in [$2, $3), cancelled ones not counted.
select count(*)
  from scheduled_messages
 where patient_id = $1 and kind = 'appointment_reminder'
   and status in ('pending', 'processing', 'sent', 'delivered')
   and scheduled_time >= $2 and scheduled_time < $3

-- name: insert_appointment_message
-- Idempotent by key; a cancelled row with the same key (a reschedule back to an earlier time)
-- comes back.
insert into scheduled_messages
  (organization_id, patient_id, scheduled_time, platform, kind, payload, priority, expires_at,
   idempotency_key, appointment_id, message_content)
values ($1, $2, $3, 'auto', $4, $5, $6, $7, $8, $9, null)
on conflict (idempotency_key) do update
   set status = 'pending', scheduled_time = excluded.scheduled_time,
       expires_at = excluded.expires_at, payload = excluded.payload, attempts = 0,
       last_error = null, locked_by = null, locked_until = null, lease_token = null,
       channels_tried = '{}'
 where scheduled_messages.status = 'cancelled'
returning id

-- name: cancel_appointment_messages
update scheduled_messages
   set status = 'cancelled', last_error = $3
 where appointment_id = $1 and status = 'pending' and kind = any($2::text[])

-- name: set_appointment_time
update appointments set starts_at = $2, status = $3 where id = $1

-- name: set_appointment_status
update appointments set status = $2 where id = $1

-- name: mark_appointment_planned
-- Remember what the messages now match, so the planner tick leaves the row alone.
update appointments
   set planned_starts_at = starts_at, planned_status = status, reminders_stale = false
 where id = $1

-- name: appointments_to_sync
-- Appointments changed outside scheduler.appointments (the dashboard writes rows directly):
-- booked and never planned, moved, or cancelled without the notice; or with reminders made stale
-- by a change of the patient's preferences (migration 20260101009720). Past ones are left alone.
-- $3: these appointments only, or null for all; $4: appointments left out (their sync failed
-- before, scheduler/planning_steps.py: tried on their own, so they cannot starve the others).
select id, patient_id, starts_at, status, planned_starts_at, planned_status, reminders_stale
  from appointments
 where (planned_status is distinct from status or planned_starts_at is distinct from starts_at
        or reminders_stale)
   and starts_at > $1
   and ($3::uuid[] is null or id = any($3::uuid[])) and id <> all($4::uuid[])
 order by starts_at
 limit $2

-- name: insert_audit
insert into audit_log (organization_id, actor, action, entity, entity_id, details, at)
values ($1, $2, $3, $4, $5, $6, $7)

-- name: message_status_by_key
select status from scheduled_messages where idempotency_key = $1

-- name: move_home_timezone
update patients set home_timezone = timezone where id = $1

-- name: upcoming_patient_appointments
-- The patient's appointments still ahead and still on, to re-plan their reminders.
select id, starts_at from appointments
 where patient_id = $1 and starts_at > $2
   and status in ('scheduled', 'confirmed', 'reschedule_requested')
 order by starts_at

-- name: pending_at_instants
-- How many messages are already waiting to go at each of these instants ($1): the planner's
-- forecast of a peak (scheduler/planning_peaks.py).
-- The pending rows are the queue's unleased ones (migration 20260101011000).
select scheduled_time, count(*) as n
  from message_queue
 where locked_until is null and scheduled_time = any($1::timestamptz[])
 group by scheduled_time

-- name: doses_of_dates
-- The doses of schedules $1 on local dates $2, but cancelled ones (scheduler/
-- planning_day_quota.py: a re-plan gives a date no more doses than its rule has). $3, $4: due
-- between them (the dates' instants, with room), for the (schedule_id, due_at) index.
select schedule_id, local_date, due_at, status
  from dose_events
 where schedule_id = any($1::uuid[]) and due_at > $3 and due_at < $4
   and local_date = any($2::date[]) and status <> 'cancelled'

-- ---------------------------------------------------------------------------------------------
-- Schedules that failed to plan (scheduler/planning_failures.py, migration 20260101018650)
-- ---------------------------------------------------------------------------------------------

-- name: record_planning_failure
-- One more failure of a schedule ($1) at $2: its count, to say it in the log once in a while.
-- Null when the schedule is gone (deleted by its patient's erasure, or its medicine's, while it
-- was planned): nothing to retry, and its foreign key would fail the tick's transaction.
insert into planner_failures as f (schedule_id, first_failed_at, failed_at, error_class, sqlstate)
select $1::uuid, $2::timestamptz, $2::timestamptz, $3::text, $4::text
 where exists (select from reminder_schedules s where s.id = $1::uuid)
on conflict (schedule_id) do update
   set failed_at = excluded.failed_at, failures = f.failures + 1,
       error_class = excluded.error_class, sqlstate = excluded.sqlstate
returning failures

-- name: failed_schedules_to_retry
-- The failed schedules tried this tick ($2 = its instant; not those that failed in it), least
-- recently tried first ($1 at most).
select schedule_id from planner_failures
 where failed_at < $2
 order by failed_at, schedule_id
 limit $1

-- name: forget_planning_failures
-- Schedules planned at last: theirs is no longer a failure.
delete from planner_failures where schedule_id = any($1::uuid[]) returning schedule_id, failures

-- ---------------------------------------------------------------------------------------------
-- Steps that failed for one patient or appointment (scheduler/planning_steps.py, migration
-- 20260101018700)
-- ---------------------------------------------------------------------------------------------

-- name: record_step_failure
-- One more failure of step $1 for unit $2 (of patient $3) at $4: its count, for the log. Null
-- when the patient is gone (a self-registered patient's erasure deletes their row): nothing to
-- retry, and the foreign key would fail the tick's transaction.
insert into planner_step_failures as f
  (step, unit_id, patient_id, first_failed_at, failed_at, error_class, sqlstate)
select $1::text, $2::uuid, $3::uuid, $4::timestamptz, $4::timestamptz, $5::text, $6::text
 where exists (select from patients p where p.id = $3::uuid)
on conflict (step, unit_id) do update
   set failed_at = excluded.failed_at, failures = f.failures + 1,
       error_class = excluded.error_class, sqlstate = excluded.sqlstate
returning failures

-- name: failed_steps
-- Every unit left out of its step's bulk pass: few (each is a patient whose data needs a fix).
select step, unit_id from planner_step_failures

-- name: failed_steps_to_retry
-- The failed units tried this tick ($2 = its instant; not those that failed in it), least
-- recently tried first ($1 at most).
select step, unit_id, patient_id from planner_step_failures
 where failed_at < $2
 order by failed_at, step, unit_id
 limit $1

-- name: forget_step_failure
-- Done at last: no longer a failure.
delete from planner_step_failures where step = $1 and unit_id = $2 returning failures

-- name: followup_patients
-- The patients plan_followups would read at $1 (open doses of the last 7 days), but $2's.
select distinct patient_id from dose_events
 where status in ('due', 'snoozed') and due_at <= $1 and due_at > $1 - interval '7 days'
   and patient_id <> all($2::uuid[])

-- name: unreachable_notice_patients
-- The patients plan_unreachable_notices would read, but $2's ($1 unused: one signature).
select id from patients
 where unreachable_notice_pending and id <> all($2::uuid[]) and $1::timestamptz is not null

-- name: refill_patients
-- The patients plan_refills would read, but $2's ($1 unused: one signature).
select distinct patient_id from medications
 where status = 'active' and pill_count is not null and refill_reminded_at is null
   and patient_id <> all($2::uuid[]) and $1::timestamptz is not null
