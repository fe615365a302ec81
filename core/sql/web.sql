-- Queries of the web process (medremind/web) and of API keys (medremind/api_keys.py).
-- Every query that reads or changes an organization's data takes the organization id from the
-- caller's API key and filters by it, so no request can reach another organization's rows.

-- name: organization_by_id
select id from organizations where id = $1

-- name: organizations_by_name
select id from organizations where name = $1

-- name: organization_names
-- The clinics an unknown --org is told about (medremind apikey create), first by name.
select name from organizations order by name limit $1

-- name: organization_timezone
-- The clinic's zone: a preview of an appointment message names its time beside the patient's.
select timezone from organizations where id = $1

-- name: insert_api_key
insert into api_keys (organization_id, name, prefix, key_hash, role) values ($1, $2, $3, $4, $5)

-- name: api_keys_listed
-- Every API key (of the clinic $1, or of all when null) for `medremind apikey list`: no hash.
select k.prefix, k.name, k.role, o.name as clinic, k.created_at, k.last_used_at, k.revoked_at
  from api_keys k join organizations o on o.id = k.organization_id
 where $1::uuid is null or k.organization_id = $1
 order by o.name, k.created_at

-- name: revoke_api_key
-- `medremind apikey revoke`: the key with prefix $1 stops working at once (every request looks
-- it up); revoked already, it keeps its first revocation time. The key as it is now, or none.
with revoked as (
  update api_keys set revoked_at = now() where prefix = $1 and revoked_at is null
  returning id
)
select k.prefix, k.name, o.name as clinic, coalesce(k.revoked_at, now()) as revoked_at,
       exists (select 1 from revoked) as now_revoked
  from api_keys k join organizations o on o.id = k.organization_id
 where k.prefix = $1

-- name: api_key_by_prefix
select id, organization_id, key_hash, role from api_keys
 where prefix = $1 and revoked_at is null

-- name: touch_api_key
update api_keys set last_used_at = now()
 where id = $1
   and (last_used_at is null or last_used_at < now() - make_interval(secs => $2::float8))

-- name: migration_versions
select version, checksum from public.medremind_migrations

-- name: idempotency_lock
select pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2, 7240310))

-- name: idempotency_get
select request_fingerprint, response_status, response_body
  from api_idempotency_keys where organization_id = $1 and key = $2

-- name: idempotency_put
insert into api_idempotency_keys
  (organization_id, key, request_fingerprint, response_status, response_body)
values ($1, $2, $3, $4, $5)

-- name: patient_exists
select true from patients where id = $1 and organization_id = $2 and status <> 'deleted'

-- name: patient_consented
-- Whether patient $1 of organization $2 has consented; no row: no such patient. Locked until the
-- caller's transaction ends (as its foreign keys would be, FOR KEY SHARE): an erasure in progress
-- holds the row, this waits for it and then finds the patient deleted; without the lock a
-- booking read the patient as active and inserted after the erasure's delete (its appointment,
-- location and all, outlived the erasure).
select consent_at is not null from patients
 where id = $1 and organization_id = $2 and status <> 'deleted'
   for key share

-- name: message_to_resend
-- The failed message $1 of organization $2 a re-send would copy, with what its copy would need:
-- no row when there is none, it is not failed, or it was re-sent already (the function says).
select m.patient_id, m.kind, m.payload, m.platform, m.allow_fallback, m.caregiver_id
  from scheduled_messages m
 where m.id = $1 and m.organization_id = $2 and m.status = 'failed'
   and not public.message_holds_live_link(m.kind, m.message_content, m.created_at)
   and not exists (select from scheduled_messages r where r.resent_from = m.id)

-- name: patient_channels
-- Where a message of kind $3 (payload $4) on platform $5 (fallback $6) to patient $1 can go, and
-- whether it is due ($7) within the refusal window of now ($8): public.message_reach, the one
-- definition the dashboard's Compose uses too (migration 20260101015200). No row: no such patient
-- in organization $2.
select * from public.message_reach($1, $2, $3, $4, $5, $6, $7, $8)

-- name: insert_message
-- $13: whether the worker may go on to the patient's other channels (always for 'auto').
-- from_clinic: counted by the per-patient cap, whose trigger refuses it past the cap with
-- SQLSTATE MR429 (migration 20260101018340, medremind/web/api_v1/patient_cap.py).
insert into scheduled_messages
  (organization_id, patient_id, message_content, template, kind, payload, platform,
   scheduled_time, expires_at, priority, urgent, idempotency_key, allow_fallback, from_clinic)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, true)
returning *

-- name: get_message
-- A message holding a live sign-in or caregiver link is not the clinic's (migrations
-- 20260101015400, 20260101015570).
select * from scheduled_messages
 where id = $1 and organization_id = $2
   and not public.message_holds_live_link(kind, message_content, created_at)

-- name: list_messages
-- Newest first by (scheduled_time, id), after the cursor ($2, $3); each filter null = any.
-- $8, the channel: the one it went out on, else (not sent yet) the one asked for.
select * from scheduled_messages
 where organization_id = $1
   and ($2::timestamptz is null or (scheduled_time, id) < ($2, $3::uuid))
   and ($4::text is null or status = $4)
   and ($5::uuid is null or patient_id = $5)
   and ($6::uuid is null or appointment_id = $6)
   and ($7::text is null or kind = $7)
   and ($8::text is null or coalesce(channel_used, platform) = $8)
   and ($9::timestamptz is null or scheduled_time >= $9)
   and ($10::timestamptz is null or scheduled_time < $10)
   and not public.message_holds_live_link(kind, message_content, created_at)
 order by scheduled_time desc, id desc
 limit $11

-- name: cancel_message
-- A pending message, or one a worker claimed ahead while its time is more than a second away
-- (migration 20260101018320); nothing when it cannot be cancelled (the caller says why).
select * from public.cancel_scheduled_message($1, $2)

-- name: edit_message
-- Message $1 of clinic $2 with text $3 and time $4 (null: as they are): a pending message, or
-- one a worker claimed ahead while its time is more than a second away (migration
-- 20260101018500: the worker's lease released); nothing when it cannot be changed (the caller
-- says why).
select * from public.edit_scheduled_message($1, $2, $3, $4)

-- name: insert_patient
insert into patients
  (organization_id, display_name, locale, timezone, channel_order, external_id, consent_at,
   status)
values ($1, $2, $3, $4, $5, $6, $7, $8)
returning *

-- name: insert_contact_point
insert into contact_points (patient_id, channel, address, verified)
values ($1, $2, $3, false)
on conflict (channel, address) do nothing
returning id

-- name: get_patient
select * from patients where id = $1 and organization_id = $2 and status <> 'deleted'

-- name: patient_caregivers
-- The patient's caregivers with what stops their alerts (migrations 20260101012200,
-- 20260101014300); `alerted` as planner.sql mark_missed decides it for a clinic's patient.
select c.id, c.name, c.channel, c.address, c.alert_delay_minutes, c.share_details, c.active,
       c.opted_out_at, c.blocked_at as unreachable_since, c.awaiting_link_since,
       c.active and c.opted_out_at is null and c.blocked_at is null
         and c.awaiting_link_since is null as alerted
  from caregivers c
 where c.patient_id = $1
 order by c.created_at, c.id

-- name: get_patient_or_tombstone
-- The patient, or what is left of an erased one (status 'deleted', erased_at, erasure_reason).
select * from patients where id = $1 and organization_id = $2

-- name: erase_patient
select public.erase_patient($1, $2, $3)

-- name: audit
insert into audit_log (organization_id, actor, action, entity, entity_id)
values ($1, $2, $3, $4, $5)

-- name: patient_contacts
-- The patient's contact points, and the addresses the clinic entered that another patient owns
-- (kept as invitations to that owner), marked held_elsewhere: nothing is sent to them for this
-- patient (medremind/web/api_v1/address_held.py), which the answer says rather than list them
-- as usable; whose they are it never says.
select channel, address, verified, active, opted_out_at, created_at, false as held_elsewhere
  from contact_points
 where patient_id = $1
union all
select claimed_channel, claimed_address, claimed_verified, true, null::timestamptz, created_at,
       true
  from patient_invites
 where patient_id = $1 and claimed_address is not null and used_at is null
 order by created_at

-- name: own_patient_holding
-- The clinic's own patient whose contact point (channel, address) is, if any: the clinic reads
-- its own patients' contact points anyway; another clinic's or nobody's is null alike.
select cp.patient_id from contact_points cp join patients p on p.id = cp.patient_id
 where p.organization_id = $1 and cp.channel = $2 and cp.address = $3

-- name: invite_address_owner
select public.invite_address_owner($1, $2, $3, $4, false)

-- name: insert_invite
insert into patient_invites (organization_id, patient_id, token_hash, expires_at)
values ($1, $2, $3, $4)
returning id, expires_at

-- name: get_appointment
select * from appointments where id = $1 and organization_id = $2

-- name: insert_medication
-- $4: the FHIR MedicationRequest's id (null: none); a live medicine of the patient with it
-- already is a unique violation (migration 20260101016330).
insert into medications (patient_id, name, dose, external_id) values ($1, $2, $3, $4)
returning id

-- name: medication_by_external_id
-- The clinic's live medicine imported from the MedicationRequest id $2, with its patient.
select m.id, m.patient_id, m.name, m.status, m.paused_by from medications m
  join patients p on p.id = m.patient_id
 where p.organization_id = $1 and m.external_id = $2 and m.status <> 'deleted'
 order by m.created_at
 limit 1

-- name: imported_medication
-- The medicine of the clinic's ($1) MedicationRequest id $2 for a stop: the live one, else the
-- latest stopped (deleted) one, with its patient; none: never imported.
select m.id, m.patient_id, m.name, m.status from medications m
  join patients p on p.id = m.patient_id
 where p.organization_id = $1 and m.external_id = $2
 order by m.status <> 'deleted' desc, m.created_at desc
 limit 1

-- name: stop_medication
-- A FHIR MedicationRequest stopped ($1 its medicine, $2 the reason its messages are cancelled
-- with), as /meds' delete: the medicine deleted, its schedules ended, every open dose cancelled
-- with its pending reminders, nags and caregiver alerts, and its pending refill notice. Rows a
-- worker has claimed meanwhile are withheld at send (scheduler/delivery_gate.py: the medicine's
-- status). The schedules' ids (to re-plan) and how many messages were cancelled.
with medicine as (
  update medications set status = 'deleted' where id = $1 and status <> 'deleted'
  returning id
), schedules as (
  update reminder_schedules set status = 'ended', version = version + 1
   where medication_id = $1 and status <> 'ended'
  returning id
), doses as (
  update dose_events set status = 'cancelled'
   where medication_id = $1 and status in ('due', 'snoozed')
  returning id
), messages as (
  update scheduled_messages set status = 'cancelled', last_error = $2
   where status = 'pending'
     and (dose_event_id in (select id from doses)
          or (kind = 'refill_reminder' and payload ->> 'medication_id' = $1::text))
  returning id
)
select array(select id from schedules) as schedule_ids,
       (select count(*) from messages)::int as cancelled

-- name: hold_medication
-- A FHIR MedicationRequest on-hold ($1 its medicine, $2 the reason its messages are cancelled
-- with), as /meds' pause (bot/dialogs/medicines.py): the medicine and its schedules paused, every
-- open dose cancelled with its pending reminders, nags and caregiver alerts. Rows a worker has
-- claimed meanwhile are withheld at send (scheduler/delivery_gate.py: the medicine's status).
-- Only an active medicine: again on a paused one changes nothing (one the patient paused stays
-- theirs). Marked paused_by 'fhir' (migration 20260101016910). The schedules' ids (to re-plan)
-- and how many messages were cancelled.
with medicine as (
  update medications set status = 'paused', paused_by = 'fhir' where id = $1 and status = 'active'
  returning id
), schedules as (
  update reminder_schedules set status = 'paused', version = version + 1
   where medication_id = $1 and status <> 'ended' and exists (select 1 from medicine)
  returning id
), doses as (
  update dose_events set status = 'cancelled'
   where medication_id = $1 and status in ('due', 'snoozed') and exists (select 1 from medicine)
  returning id
), messages as (
  update scheduled_messages set status = 'cancelled', last_error = $2
   where status = 'pending' and dose_event_id in (select id from doses)
  returning id
)
select array(select id from schedules) as schedule_ids,
       (select count(*) from messages)::int as cancelled

-- name: resume_medication
-- A medicine ($1) its FHIR MedicationRequest put on hold, active again, as /meds' resume: it and
-- its schedules active; the schedules' ids, to re-plan (none when the EHR had not paused it).
with medicine as (
  update medications set status = 'active', paused_by = null
   where id = $1 and status = 'paused' and paused_by = 'fhir'
  returning id
)
update reminder_schedules set status = 'active', version = version + 1
 where medication_id = $1 and status <> 'ended' and exists (select 1 from medicine)
returning id

-- name: insert_schedule
insert into reminder_schedules
  (medication_id, patient_id, times_of_day, days_of_week, every_n_days, start_date, end_date,
   max_count, timezone, fhir_timing)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
returning id

-- name: insert_status_event
-- $8: the clinic whose auth token signed it (null: the service's); it is applied to that clinic's
-- messages only (migration 20260101015560), and kept once per signer.
insert into delivery_status_events
  (provider_message_id, status, error_code, provider_status, channel, error_message, error_class,
   organization_id)
values ($1, $2, $3, $4, $5, $6, $7, $8)
on conflict (provider_message_id, status, organization_id) do nothing
returning id

-- name: apply_status_events
-- Applies the provider message's stored callbacks to its recorded sends; how many it applied.
select public.apply_delivery_status_events($1)

-- name: insert_appointment
insert into appointments
  (organization_id, patient_id, starts_at, duration_minutes, location, clinician_name,
   reminder_offsets, external_id)
values ($1, $2, $3, $4, $5, $6, $7, $8)
returning *

-- name: update_appointment_details
update appointments
   set duration_minutes = coalesce($3, duration_minutes),
       location = coalesce($4, location),
       clinician_name = coalesce($5, clinician_name),
       reminder_offsets = coalesce($6, reminder_offsets)
 where id = $1 and organization_id = $2
returning *

-- name: appointment_by_external_id
select * from appointments where organization_id = $1 and external_id = $2

-- name: appointment_booking_lock
-- One booking per patient at a time, so two copies of one request sent at once cannot both find
-- no appointment at their time (medremind/web/api_v1/appointments.py same_time_conflict).
select pg_advisory_xact_lock(hashtextextended($1::uuid::text, 7240311))

-- name: same_time_appointment
-- The patient's live appointment in the clinic starting at $3 that a new booking (or appointment
-- $5 moved there) would repeat ($4: its external_id; one that names another external_id is
-- another booking of the clinic's).
select id, status, created_at from appointments
 where organization_id = $1 and patient_id = $2 and starts_at = $3
   and status in ('scheduled', 'confirmed', 'reschedule_requested')
   and (external_id is null or $4::text is null or external_id = $4)
   and id is distinct from $5::uuid
 order by created_at, id
 limit 1

-- name: due_backlog
-- Pending messages already due, per platform, and how late the oldest is (for /metrics).
-- The due rows come from the queue's index (migration 20260101011000), then their platform.
select m.platform, count(*) as due,
       extract(epoch from now() - min(m.scheduled_time))::float8 as oldest_seconds
  from scheduled_messages m
 where m.id = any(array(select q.message_id from message_queue q
                         where q.locked_until is null and q.scheduled_time <= now()))
   and m.status = 'pending'
 group by m.platform

-- name: inbound_backlog
select count(*) as waiting,
       coalesce(extract(epoch from now() - min(received_at)), 0)::float8 as oldest_seconds
  from inbound_messages
 where status = 'received'

-- name: planner_backlog
-- Active schedules the planner has not planned up to now (new or edited ones wait for a tick).
select count(*) as behind
  from reminder_schedules
 where status = 'active' and (planned_until is null or planned_until < now())

-- name: webhook_backlog
-- Outgoing webhook deliveries due and not being posted (pending and due, or their sender's lease
-- run out), and how late the oldest is (for /metrics); a retry waiting for its time is not due.
select count(*) as due,
       coalesce(extract(epoch from now() - min(next_attempt_at)), 0)::float8 as oldest_seconds
  from webhook_deliveries
 where (status = 'pending' and next_attempt_at <= now())
    or (status = 'delivering' and locked_until < now())

-- name: planning_failed
-- Schedules the planner failed to plan and tries again each tick (planner_failures, for
-- /metrics and medremind check): their patients get no reminders from them meanwhile.
select count(*) from planner_failures

-- name: planner_steps_failed
-- Per step, the patients (appointments) a planner step failed for and leaves out until one is
-- fixed (planner_step_failures, for /metrics and medremind check), and how many patients in all.
select step, count(*) as n,
       (select count(distinct patient_id) from planner_step_failures) as patients
  from planner_step_failures group by step

-- name: patients_zone_unknown
-- Patients not erased whose timezone no zone database knows (Etc/Unknown): nothing is planned
-- for them. Counted per zone name first, so the zone list is read once, not per patient.
select coalesce(sum(n), 0)::bigint
  from (select timezone, count(*) as n from patients where status <> 'deleted' group by timezone) z
 where z.timezone not in (select name from pg_timezone_names)

-- name: clinics_zone_unknown
-- Per clinic, its patients not erased whose timezone no zone database knows (medremind check).
select o.name, count(*)::bigint as patients
  from patients p join organizations o on o.id = p.organization_id
 where p.status <> 'deleted' and p.timezone not in (select name from pg_timezone_names)
 group by o.name
 order by o.name

-- name: clinics_own_zone_unknown
-- Clinics whose own timezone no zone database knows (medremind check): POST /patients without a
-- timezone is refused there, and GET /clinic names it.
select name, timezone from organizations
 where timezone not in (select name from pg_timezone_names)
 order by name

-- name: take_api_key_rate
-- GCRA per key: $2 seconds per request at the steady rate, $3 requests that may come at once.
-- Takes one request when the key's bucket has room (a row returned), else changes nothing.
insert into api_key_rates as r (api_key_id, allowed_at)
values ($1, now() + make_interval(secs => $2::float8))
on conflict (api_key_id) do update
   set allowed_at = greatest(r.allowed_at, now()) + make_interval(secs => $2::float8)
 where r.allowed_at <= now() + make_interval(secs => $2::float8 * ($3::int - 1))
returning api_key_id

-- name: api_key_rate_wait
-- Seconds until the key's bucket has room for one request ($2, $3 as in take_api_key_rate).
select greatest(0, extract(epoch from allowed_at - now()) - $2::float8 * ($3::int - 1))::float8
  from api_key_rates where api_key_id = $1

-- name: worker_heartbeats
-- The fleet's workers heard from in the last hour: seconds since, their counters, their
-- circuit breakers not closed, and whether that was their last (a clean stop).
select worker_id, extract(epoch from now() - seen_at)::float8 as silent_seconds, counters,
       breakers, stopped_at is not null as stopped
  from worker_heartbeats
 where seen_at > now() - interval '1 hour'
 order by worker_id

-- name: publish_limits
-- The SMS segment limit this process enforces, for the dashboard (core/service_limits.py), and
-- the clinics' hourly share of priority 0, for every re-send (public.resend_message), and the cap
-- on a clinic's messages per patient per hour and per day, for every insert (migration
-- 20260101018340).
insert into service_limits (id, sms_max_segments, api_priority_zero_per_hour,
                            clinic_messages_per_patient_hour, clinic_messages_per_patient_day,
                            updated_at)
values (true, $1, $2, $3, $4, now())
on conflict (id) do update
  set sms_max_segments = excluded.sms_max_segments,
      api_priority_zero_per_hour = excluded.api_priority_zero_per_hour,
      clinic_messages_per_patient_hour = excluded.clinic_messages_per_patient_hour,
      clinic_messages_per_patient_day = excluded.clinic_messages_per_patient_day,
      updated_at = now()

-- name: patient_by_external_id
select id from patients where organization_id = $1 and external_id = $2

-- name: update_patient
-- $3: the names of the columns the request gives; the others keep their values.
update patients set
  display_name = case when 'display_name' = any($3::text[]) then $4 else display_name end,
  locale = case when 'locale' = any($3::text[]) then $5 else locale end,
  timezone = case when 'timezone' = any($3::text[]) then $6 else timezone end,
  channel_order = case when 'channel_order' = any($3::text[]) then $7 else channel_order end,
  external_id = case when 'external_id' = any($3::text[]) then $8 else external_id end,
  quiet_start = case when 'quiet_start' = any($3::text[]) then $9 else quiet_start end,
  quiet_end = case when 'quiet_end' = any($3::text[]) then $10 else quiet_end end,
  updated_at = now()
 where id = $1 and organization_id = $2 and status <> 'deleted'
returning *

-- name: patient_preferences
-- A patient's preferences for every category (never set: opted in), the patient's standing
-- appointment reminder offsets and the clinic's; null when the patient is not the clinic's.
select p.appointment_reminder_offsets, o.appointment_reminder_offsets as clinic_offsets,
       coalesce((select json_agg(json_build_object(
                   'category', c.category, 'patient_choice', pp.patient_choice,
                   'clinic_choice', pp.clinic_choice, 'channel', pp.channel,
                   'opted_out', public.preference_opted_out(pp.patient_choice, pp.clinic_choice))
                   order by c.n)
                   from unnest(array['medication', 'appointments', 'clinic_news'])
                          with ordinality c(category, n)
                   left join patient_preferences pp
                          on pp.patient_id = p.id and pp.category = c.category),
                '[]'::json) as categories
  from patients p
  join organizations o on o.id = p.organization_id
 where p.id = $1 and p.organization_id = $2 and p.status <> 'deleted'

-- name: set_clinic_preference
-- The clinic's choice and channel for one category: never the patient's own column.
-- $1 patient, $2 category, $3 choice ('in', 'out', null), $4 channel, $5 who (for the audit).
insert into patient_preferences (patient_id, category, clinic_choice, clinic_chose_at,
                                 clinic_chose_by, channel)
values ($1, $2, $3, now(), $5, $4)
on conflict (patient_id, category) do update
   set clinic_choice = excluded.clinic_choice, clinic_chose_at = excluded.clinic_chose_at,
       clinic_chose_by = excluded.clinic_chose_by, channel = excluded.channel

-- name: set_patient_offsets
update patients set appointment_reminder_offsets = $2 where id = $1
