-- The 08:00 capacity plan (issue 20; docs/delivery.md "Capacity at the 08:00 peak").
--
-- 1. Several Telegram bots: a Telegram contact point records the bot the patient talks to
--    (Telegram's numeric bot id, the part of the token before the colon, which is not secret).
--    A chat cannot move between bots: reminders to it go through its bot. NULL is the bot of
--    TELEGRAM_BOT_TOKEN, so every contact point that existed before belongs to the default bot.
alter table contact_points
  add column telegram_bot text
    check (telegram_bot is null or (telegram_bot ~ '^[0-9]{1,20}$' and channel = 'telegram'));

-- 2. Time-critical doses (insulin, anticonvulsants, Parkinson's medication): their reminders get
--    a higher priority (a lower number) and never leave early.
alter table medications
  add column time_critical boolean not null default false;

-- 3. allow_paid_broadcast: a clinic that enables it pays 0.1 Telegram Stars per message to lift
--    its reminders past a bot's 30 messages a second (up to 1,000/s), for reminders already this
--    many seconds late (0: every reminder; NULL: never, the default).
alter table organizations
  add column telegram_paid_broadcast_after_seconds integer
    check (telegram_paid_broadcast_after_seconds between 0 and 86400);

-- 4. The per-kind early window: when the planner forecasts a peak above the bots' capacity, a
--    routine reminder of a kind named here may be scheduled up to that many seconds early
--    ({"medication_reminder": 300}); never a time-critical dose, never before quiet hours end.
alter table organizations
  add column early_send_seconds jsonb not null default '{}'::jsonb
    check (jsonb_typeof(early_send_seconds) = 'object');

-- Shard counts for new enrolments (which bot has the fewest patients for its rate).
create index contact_points_telegram_bot_idx on contact_points (telegram_bot)
  where channel = 'telegram';
