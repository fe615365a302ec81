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
-- Mark medication $1 of patient $2 time-critical ($3) or not; its pending reminders follow:
-- priority 0 or 1 (scheduler/planning_rules.py), and a time-critical one never early (never
-- earlier than it was either).
with med as (
  update medications set time_critical = $3
   where id = $1 and patient_id = $2 and status <> 'deleted'
  returning id, name, dose, status, time_critical
), reminders as (
  update scheduled_messages m
     set priority = case when $3 then 0 else 1 end,
         -- One planned early comes back to its dose's time; one later (snoozed by the patient,
         -- put back for quiet hours or the rate limit) keeps its time.
         scheduled_time = case when $3 then greatest(m.scheduled_time, d.due_at)
                               else m.scheduled_time end
    from dose_events d, med
   where d.medication_id = med.id and m.dose_event_id = d.id
     and m.kind = 'medication_reminder' and m.status = 'pending'
)
select * from med

-- name: bot_loads
-- How many reachable chats each Telegram bot has ('' for the default bot): new patients go
-- where there is spare capacity (medremind/web/invite_links.py).
select coalesce(telegram_bot, '') as bot, count(*) as chats
  from contact_points
 where channel = 'telegram' and active and opted_out_at is null and blocked_at is null
 group by 1
