-- name: contact_for_sign_in
-- The usable contact point with this address on one of the channels ($1), of an active,
-- consented patient: where a sign-in link may be sent.
select cp.id, cp.channel, cp.address, p.id as patient_id, p.locale
  from contact_points cp
  join patients p on p.id = cp.patient_id
 where cp.channel = any($1::text[]) and cp.address = $2
   and cp.active and cp.opted_out_at is null and cp.blocked_at is null
   and p.status = 'active' and p.consent_at is not null
 order by array_position($1::text[], cp.channel)
 limit 1

-- name: recent_sign_in_links
select count(*) from patient_sign_in_links where patient_id = $1 and created_at > $2

-- name: insert_sign_in_link
insert into patient_sign_in_links (patient_id, token_hash, channel, created_at, expires_at)
values ($1, $2, $3, $4, $5)
returning id

-- name: insert_sign_in_message
-- The link goes out through the durable outbound path like every message: on the channel the
-- patient named only (no fallback), at once (urgent: the patient is waiting), never late.
insert into scheduled_messages (
  patient_id, message_content, scheduled_time, platform, kind, priority, urgent,
  allow_fallback, expires_at, idempotency_key, max_attempts)
values ($1, $2, $3, $4, 'system', 0, true, false, $5, $6, 3)

-- name: redeem_sign_in_link
-- Single use: the first redeemer of an unexpired link gets its patient; everyone else nothing.
update patient_sign_in_links l
   set used_at = $2
  from patients p
 where l.token_hash = $1 and l.used_at is null and l.expires_at > $2
   and p.id = l.patient_id and p.status = 'active'
returning l.id, l.patient_id

-- name: create_session
insert into patient_web_sessions (patient_id, token_hash, device_label, created_at, expires_at)
values ($1, $2, $3, $4, $5)
returning id

-- name: session_patient
select s.id as session_id, p.id as patient_id, p.display_name, p.timezone, p.locale,
       p.name_medicine_in_reminders, p.reminders_paused
  from patient_web_sessions s
  join patients p on p.id = s.patient_id
 where s.token_hash = $1 and s.revoked_at is null and s.expires_at > $2 and p.status = 'active'

-- name: revoke_session
update patient_web_sessions set revoked_at = coalesce(revoked_at, $2) where id = $1

-- name: revoke_patient_sessions
update patient_web_sessions set revoked_at = $2 where patient_id = $1 and revoked_at is null

-- name: today_doses
-- Today's doses: due in [$2, $3), the patient's day in their zone now (not by local_date, the
-- date in the schedule's zone: the home zone's while a 'home' patient travels), and any dose
-- still waiting for an answer that fell due in [$4, $2) (the 23:30 dose is still answerable at
-- 00:10, when "today" has moved on). Tomorrow's doses, planned ahead as 'due', are not today's.
-- remindable: a snooze's reminder would come (the medicine active, the patient not paused).
select de.id, de.due_at, de.local_date, de.local_time, de.status, de.snoozed_until, m.name,
       m.dose, m.status = 'active' and not p.reminders_paused as remindable
  from dose_events de
  join medications m on m.id = de.medication_id
  join patients p on p.id = de.patient_id
 where de.patient_id = $1 and de.status <> 'cancelled'
   and ((de.due_at >= $2 and de.due_at < $3)
        or (de.status in ('due', 'snoozed') and de.due_at >= $4 and de.due_at < $2))
 order by de.due_at, m.name
 limit 50

-- name: upcoming_appointments
-- With the clinic's zone: its time is shown beside the patient's where they differ.
select a.id, a.starts_at, a.location, a.clinician_name, a.status, o.timezone as clinic_timezone
  from appointments a
  join organizations o on o.id = a.organization_id
 where a.patient_id = $1 and a.starts_at > $2 and a.starts_at < $3
   and a.status in ('scheduled', 'confirmed', 'reschedule_requested')
 order by a.starts_at
 limit 10

-- name: patient_appointment
select id from appointments where id = $1 and patient_id = $2

-- name: dose_patient
select patient_id from dose_events where id = $1

-- name: dose_due_at
select due_at from dose_events where id = $1 and patient_id = $2

-- name: appointment_patient
select patient_id from appointments where id = $1

-- name: lock_patient_sign_in
-- One sign-in request at a time per patient (held to the end of the transaction).
select pg_advisory_xact_lock(hashtext('sign-in:' || $1::uuid::text))

-- name: live_sessions
-- Which of these sessions (token hashes) are still valid: an open socket of any other is closed.
select token_hash from patient_web_sessions
 where token_hash = any($1::text[]) and revoked_at is null and expires_at > $2

-- name: forget_old_sign_ins
-- Links and sessions are kept a week past their end (the patient's list of sign-ins), no longer;
-- a client's request bucket whose next free moment has passed holds nothing.
with links as (
  delete from patient_sign_in_links where expires_at < $1::timestamptz - interval '7 days'
), clients as (
  delete from sign_in_client_rates where allowed_at < $1::timestamptz
)
delete from patient_web_sessions where expires_at < $1::timestamptz - interval '7 days'

-- name: take_sign_in_client_rate
-- GCRA per client ($1, its key) at $2: $3 seconds per request at the steady rate, $4 requests
-- that may come at once. Takes one request when the bucket has room (a row returned), else
-- changes nothing.
insert into sign_in_client_rates as r (client_key, allowed_at)
values ($1, $2::timestamptz + make_interval(secs => $3::float8))
on conflict (client_key) do update
   set allowed_at = greatest(r.allowed_at, $2::timestamptz) + make_interval(secs => $3::float8)
 where r.allowed_at <= $2::timestamptz + make_interval(secs => $3::float8 * ($4::int - 1))
returning client_key

-- name: sign_in_client_salt
-- The salt of the buckets' keys (migration 20260101015700).
select salt from sign_in_client_salt

-- name: sign_in_client_wait
-- Seconds from $2 until the client's bucket ($1) has room for one request ($3, $4 as above).
select greatest(0, extract(epoch from allowed_at - $2::timestamptz)
                   - $3::float8 * ($4::int - 1))::float8
  from sign_in_client_rates where client_key = $1

-- name: patient_settings
-- The patient's own settings, and their clinic's quiet hours (what applies while they set none).
select p.reminders_paused, p.reminders_paused_until, p.name_medicine_in_reminders, p.quiet_start, p.quiet_end,
       p.timezone, o.default_quiet_start, o.default_quiet_end
  from patients p
  left join organizations o on o.id = p.organization_id
 where p.id = $1

-- name: set_name_medicine
update patients set name_medicine_in_reminders = $2 where id = $1

-- name: set_quiet_hours
update patients set quiet_start = $2, quiet_end = $3 where id = $1
