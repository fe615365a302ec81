-- Waitlist (scheduler/waitlist.py, medremind/web/api_v1/waitlist.py). Tables and
-- public.accept_slot_offer: migration 20260101008720.

-- name: create_offer
-- The slot of a cancelled appointment starting after $2, once.
insert into slot_offers (organization_id, source_appointment_id, starts_at, duration_minutes,
                         location, clinician_name)
select a.organization_id, a.id, a.starts_at, a.duration_minutes, a.location, a.clinician_name
  from appointments a
 where a.id = $1 and a.status = 'cancelled' and a.starts_at > $2
on conflict (source_appointment_id) do nothing
returning id, organization_id, starts_at, duration_minutes,
          (select patient_id from appointments where id = $1) as cancelled_patient_id,
          (select name from organizations o where o.id = organization_id) as clinic_name,
          (select timezone from organizations o where o.id = organization_id) as clinic_timezone

-- name: fitting_entries
-- Waiting patients of the clinic (not the one who cancelled) whose day and window, in their own
-- timezone, hold the slot [$3, $3 + $4 minutes); first come, first offered. A window is a day's:
-- from `earliest` on it until `latest` on it, or on the next day when `latest` is before
-- `earliest` (overnight, migration 20260101019470); a slot starting after midnight in an
-- overnight window's small hours is the day before's, whose weekday `days_of_week` must hold
-- (Monday 23:30-01:00 holds Tuesday 00:15). One bound alone checks the slot's start (`earliest`)
-- or its end (`latest`) by the time of day only, as it always did. Compared as wall-clock
-- timestamps, so a slot running past midnight does not fit a window that ends before it.
select e.id, e.patient_id, p.timezone, p.locale
  from waitlist_entries e join patients p on p.id = e.patient_id
 cross join lateral (
   select $3 at time zone p.timezone as starts,
          ($3 + make_interval(mins => $4)) at time zone p.timezone as ends) slot
 cross join lateral (
   select e.earliest > e.latest as overnight,
          case when e.earliest > e.latest and slot.starts::time < e.earliest
               then slot.starts::date - 1 else slot.starts::date end as day) win
 where e.organization_id = $1 and e.status = 'waiting' and e.patient_id <> $2
   and p.status = 'active' and p.consent_at is not null and not p.reminders_paused
   and (e.days_of_week is null
        or extract(isodow from win.day)::smallint = any (e.days_of_week))
   and (e.earliest is null or slot.starts >= win.day + e.earliest)
   and (e.latest is null
        or (e.earliest is null and slot.ends::time <= e.latest)
        or (e.earliest is not null
            and slot.ends <= win.day + e.latest
                             + case when win.overnight then interval '1 day' else interval '0' end))
   and (e.duration_minutes is null or e.duration_minutes <= $4)
 order by e.created_at, e.id
 limit $5

-- name: insert_recipient
insert into slot_offer_recipients (offer_id, entry_id, patient_id) values ($1, $2, $3)
returning id

-- name: insert_message
-- An offer or a "gone" notice, through the ordinary outbound path (the patient's channels).
insert into scheduled_messages (patient_id, message_content, kind, platform, payload, priority,
                                expires_at, idempotency_key, scheduled_time)
values ($1, $2, 'free_text', 'auto', $3::jsonb, $4, $5, $6, $7)
on conflict (idempotency_key) do nothing

-- name: offer_of_recipient
select r.id, r.offer_id, r.status, o.starts_at, o.status as offer_status,
       org.name as clinic_name, org.timezone as clinic_timezone
  from slot_offer_recipients r
  join slot_offers o on o.id = r.offer_id
  join organizations org on org.id = o.organization_id
 where r.id = $1 and r.patient_id = $2

-- name: decline
update slot_offer_recipients set status = 'declined', answered_at = $2
 where id = $1 and status = 'offered'

-- name: accept
select outcome, appointment_id from public.accept_slot_offer($1, $2)

-- name: withdraw_unsent_offers
update scheduled_messages m set status = 'cancelled', last_error = 'slot taken'
  from slot_offer_recipients r
 where r.offer_id = $1 and r.status = 'too_late'
   and m.idempotency_key = 'waitlist:' || r.id || ':offer' and m.status = 'pending'

-- name: too_late
select r.id, r.patient_id, p.timezone, p.locale
  from slot_offer_recipients r join patients p on p.id = r.patient_id
 where r.offer_id = $1 and r.status = 'too_late'

-- name: insert_entry
insert into waitlist_entries (organization_id, patient_id, days_of_week, earliest, latest,
                              duration_minutes, note)
select $1, p.id, $3, $4, $5, $6, $7 from patients p
 where p.id = $2 and p.organization_id = $1 and p.status <> 'deleted'
returning *

-- name: list_entries
select * from waitlist_entries
 where organization_id = $1 and status = 'waiting'
 order by created_at, id
 limit 500

-- name: remove_entry
update waitlist_entries set status = 'removed'
 where id = $1 and organization_id = $2 and status = 'waiting'
returning *

-- name: waiting_entry_of_patient
-- The clinic's waiting entry of patient $2 (one at most: waitlist_entries_one_per_patient).
select id from waitlist_entries
 where organization_id = $1 and patient_id = $2 and status = 'waiting'
