-- Clinic operations: statistics and appointment outcomes (medremind/web/api_v1/statistics.py,
-- outcomes.py).

-- name: organization_timezone
select timezone from organizations where id = $1

-- name: clinic_statistics
select public.clinic_statistics($1, $2, $3)

-- name: clinic_paid_broadcast
-- Telegram paid broadcasts and their Stars in the period (migration 20260101010250).
select messages, stars from public.clinic_paid_broadcast($1, $2, $3)

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

-- name: list_patients
-- A page of the clinic's patients in (created_at, id) order after the cursor ($2, $3), matching
-- $7 (a name fragment, $4 its pattern, folded here once, accents and case aside; an exact
-- external id or an exact contact address, a phone number written any way, the patients it names
-- found once a query through indexes: public.patients_with_contact; null: all; migrations
-- 20260101018120, 20260101018220) and status
-- $5 (null: all but deleted). $6 = page size + 1. $8: true, only patients whose timezone no zone
-- database knows (Etc/Unknown: nothing is planned for them); false, only the others; null: all.
select p.* from patients p
 where p.organization_id = $1
   and ($2::timestamptz is null or (p.created_at, p.id) > ($2, $3::uuid))
   and ($5::text is null and p.status <> 'deleted' or p.status = $5)
   and ($8::boolean is null
        or $8 = (p.timezone not in (select name from pg_timezone_names)))
   and ($7::text is null
        or p.search_name ilike (select '%' || public.search_fold($4) || '%')
        or p.external_id = $7
        or p.id in (select public.patients_with_contact($7)))
 order by p.created_at, p.id
 limit $6

-- name: list_appointments
-- A page of the clinic's appointments in (starts_at, id) order after the cursor ($2, $3), with
-- optional filters: patient $4, status $5, starts_at in [$6, $7). $8 = page size + 1.
select * from appointments
 where organization_id = $1
   and ($2::timestamptz is null or (starts_at, id) > ($2, $3::uuid))
   and ($4::uuid is null or patient_id = $4)
   and ($5::text is null or status = $5)
   and ($6::timestamptz is null or starts_at >= $6)
   and ($7::timestamptz is null or starts_at < $7)
 order by starts_at, id
 limit $8

-- name: clinic_settings
-- telegram_paid_stars_used: what the clinic's paid broadcasts took this month (UTC) of its
-- allowance (telegram_paid_months, migration 20260101012600).
select id, name, timezone, locale, contact_phone, contact_email, appointment_reminder_offsets,
       default_quiet_start, default_quiet_end, telegram_paid_broadcast_after_seconds,
       telegram_paid_stars_monthly, early_send_seconds, updated_at,
       coalesce((select pm.messages from telegram_paid_months pm
                  where pm.organization_id = organizations.id
                    and pm.month = date_trunc('month', now() at time zone 'UTC')::date), 0)
         * 0.1 as telegram_paid_stars_used,
       caps, (public.clinic_message_caps_in_effect(caps)).hour as patient_cap_hour,
       (public.clinic_message_caps_in_effect(caps)).day as patient_cap_day
  from organizations where id = $1

-- name: update_clinic_settings
-- $2: the names of the settings the request gives; the others keep their values.
update organizations set
  name = case when 'name' = any($2::text[]) then $3 else name end,
  timezone = case when 'timezone' = any($2::text[]) then $4 else timezone end,
  locale = case when 'locale' = any($2::text[]) then $5 else locale end,
  contact_phone = case when 'contact_phone' = any($2::text[]) then $6 else contact_phone end,
  contact_email = case when 'contact_email' = any($2::text[]) then $7 else contact_email end,
  appointment_reminder_offsets = case when 'appointment_reminder_offsets' = any($2::text[])
    then $8 else appointment_reminder_offsets end,
  default_quiet_start = case when 'default_quiet_start' = any($2::text[])
    then $9 else default_quiet_start end,
  default_quiet_end = case when 'default_quiet_end' = any($2::text[])
    then $10 else default_quiet_end end,
  telegram_paid_broadcast_after_seconds =
    case when 'telegram_paid_broadcast_after_seconds' = any($2::text[])
    then $11 else telegram_paid_broadcast_after_seconds end,
  early_send_seconds = case when 'early_send_seconds' = any($2::text[])
    then $12::jsonb else early_send_seconds end,
  telegram_paid_stars_monthly = case when 'telegram_paid_stars_monthly' = any($2::text[])
    then $13 else telegram_paid_stars_monthly end,
  -- $14: the clinic's own caps per patient given ({} when none): a number sets one, null
  -- removes it (the service's applies then); the other caps keep theirs.
  caps = caps - array(select e.key from jsonb_each($14::jsonb) e where e.value = 'null'::jsonb)
         || jsonb_strip_nulls($14::jsonb),
  updated_at = now()
 where id = $1
returning id, name, timezone, locale, contact_phone, contact_email, appointment_reminder_offsets,
          default_quiet_start, default_quiet_end, telegram_paid_broadcast_after_seconds,
          telegram_paid_stars_monthly, early_send_seconds, updated_at,
          coalesce((select pm.messages from telegram_paid_months pm
                  where pm.organization_id = organizations.id
                    and pm.month = date_trunc('month', now() at time zone 'UTC')::date), 0)
         * 0.1 as telegram_paid_stars_used,
          caps, (public.clinic_message_caps_in_effect(caps)).hour as patient_cap_hour,
          (public.clinic_message_caps_in_effect(caps)).day as patient_cap_day
