-- Several Telegram bots (platforms/telegram_bots.py, issue 20).

-- name: paid_broadcast_clinics
-- Clinics that pay for allow_paid_broadcast, and from how many seconds late.
select id, telegram_paid_broadcast_after_seconds as after
  from organizations
 where telegram_paid_broadcast_after_seconds is not null

-- name: patient_telegram_bot
-- The bot a patient already talks to on Telegram, if any ('' for the default bot): an invite
-- for them names that bot, not a new one.
select coalesce(telegram_bot, '')
  from contact_points
 where patient_id = $1 and channel = 'telegram'
 order by active desc, created_at desc
 limit 1

-- name: patient_clinic
select organization_id from patients where id = $1
