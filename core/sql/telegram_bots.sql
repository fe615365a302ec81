-- Several Telegram bots (platforms/telegram_bots.py, issue 20).

-- name: paid_broadcast_clinics
-- Clinics that pay for allow_paid_broadcast, from how many seconds late, and their allowance
-- this month in messages (0.1 Stars each; NULL: none) with what is used of it.
select o.id, o.telegram_paid_broadcast_after_seconds as after,
       floor(o.telegram_paid_stars_monthly * 10)::int as allowance,
       coalesce(pm.messages, 0) as used
  from organizations o
  left join telegram_paid_months pm
    on pm.organization_id = o.id and pm.month = date_trunc('month', now() at time zone 'UTC')::date
 where o.telegram_paid_broadcast_after_seconds is not null

-- name: charge_paid
-- Charge paid broadcasts to their clinics' allowances before they are sent ($1 clinics, $2
-- messages, negative to refund, $3 minutes; migration 20260101012600).
select n, granted, used, allowance
  from charge_telegram_paid($1::uuid[], $2::int[], $3::timestamptz[]) order by n

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
select id, name, dose, status, time_critical, external_id, paused_by
  from medications
 where patient_id = $1 and status <> 'deleted'
 order by created_at, id

-- name: set_time_critical
-- Mark medication $1 of patient $2 time-critical ($3) or not; its pending reminders follow
-- (public.set_time_critical, migration 20260101010750, which the dashboard calls too).
select c.id, c.name, c.dose, c.status, c.time_critical, m.external_id, m.paused_by
  from public.set_time_critical($1, $2, $3) c join medications m on m.id = c.id

-- name: bot_loads
-- How many reachable chats each Telegram bot has ('' for the default bot): new patients go
-- where there is spare capacity (medremind/web/invite_links.py).
select coalesce(telegram_bot, '') as bot, count(*) as chats
  from contact_points
 where channel = 'telegram' and active and opted_out_at is null and blocked_at is null
 group by 1
