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

-- name: patient_medications
select id, name, dose, status, time_critical
  from medications
 where patient_id = $1 and status <> 'deleted'
 order by created_at, id

-- name: set_time_critical
-- Mark medication $1 of patient $2 time-critical ($3) or not; its pending reminders follow
-- (public.set_time_critical, migration 20260101010750, which the dashboard calls too).
select id, name, dose, status, time_critical from public.set_time_critical($1, $2, $3)

-- name: bot_loads
-- How many reachable chats each Telegram bot has ('' for the default bot): new patients go
-- where there is spare capacity (medremind/web/invite_links.py).
select coalesce(telegram_bot, '') as bot, count(*) as chats
  from contact_points
 where channel = 'telegram' and active and opted_out_at is null and blocked_at is null
 group by 1

-- name: add_paid_usage
-- What the worker sent with allow_paid_broadcast since its last write, per clinic and minute
-- ($1 organization ids, $2 minutes, $3 messages; one row per pair).
insert into telegram_paid_usage as u (organization_id, minute, messages)
select * from unnest($1::uuid[], $2::timestamptz[], $3::int[])
on conflict (organization_id, minute) do update set messages = u.messages + excluded.messages
