-- Conversation engine queries (bot/). Positional parameters; jsonb values are Python dicts.

-- name: insert_inbound
-- $5: when it arrived by the caller's clock (null: the database's now()); WhatsApp's 24-hour
-- window is measured from it against the sender's clock (platforms/whatsapp.py).
insert into inbound_messages (channel, provider_message_id, chat_address, payload, received_at)
values ($1, $2, $3, $4, coalesce($5, now()))
on conflict (channel, provider_message_id) do nothing
returning id

-- name: lock_inbound
select id, channel, provider_message_id, chat_address, payload, status, received_at
  from inbound_messages where id = $1 for update

-- name: mark_inbound_processed
-- $2: forget the payload (a chat that has not consented keeps nothing but its id).
update inbound_messages
   set status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = null,
       payload = case when $2 then '{}'::jsonb else payload end
 where id = $1

-- name: lock_turn
-- The stored update and its chat's conversation, both locked (update first, as lock_inbound then
-- lock_conversation do), with the conversation's patient (as get_patient reads it), in one round
-- trip. No row when the update is unknown or the chat has no conversation yet: the caller then
-- takes those steps one by one.
-- The patient is read with the statement's snapshot, taken before the locks were granted. When
-- another turn of this chat committed in between (it may have changed the patient, and every
-- turn rewrites the conversation), the locked conversation is a newer version than that
-- snapshot's, and patient_fresh is false: the caller reads the patient again.
select i.status, i.payload -> 'event' as event, i.received_at,
       c.id, c.channel, c.chat_address, c.patient_id, c.step, c.state, c.locale,
       p as patient,
       c.xmin = (select s.xmin from conversations s where s.id = c.id) as patient_fresh
  from inbound_messages i
  join conversations c on c.channel = i.channel and c.chat_address = i.chat_address
  left join patients p on p.id = c.patient_id and p.status <> 'deleted'
 where i.id = $1
   for update of i, c

-- name: finish_turn
-- The end of a turn in one round trip: save the conversation ($1 id, $2 patient, $3 step,
-- $4 state, $5 locale), mark the update $6 processed ($7: forget its payload, as in
-- mark_inbound_processed) and, when $8, note the inbound time on the contact point ($9 channel,
-- $10 address) and lift a block a permanent error recorded there (the bot blocked, the chat not
-- found: dispatch.sql deactivate_contacts) when the message came through the contact point's
-- own bot ($11): the person's message shows the chat reaches them again; so for a caregiver
-- with this address. An opt-out stays (START lifts it). Returns how many conversations were saved (0: an erasure removed it).
with saved as (
  -- A dialog question asked in this turn (bot.conversation.mark_asked: "asked_seq" null) takes
  -- its place in the order of the chat's questions: after every question recorded before this
  -- statement, before every one recorded after it (migration 20260101014900, bot/routing.py).
  update conversations
     set patient_id = $2, step = $3, locale = $5,
         state = case when $4::jsonb -> 'asked_seq' = 'null'::jsonb
                      then jsonb_set($4::jsonb, '{asked_seq}',
                                     to_jsonb(nextval('public.conversation_questions_seq_seq')))
                      else $4::jsonb end
   where id = $1
  returning id
), processed as (
  update inbound_messages
     set status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = null,
         payload = case when $7 then '{}'::jsonb else payload end
   where id = $6
), touched as (
  -- A block is lifted only by a message to the bot it was recorded for ($11 the update's
  -- Telegram bot, NULL the default): the chat id is the person's with every bot.
  -- A phone number's message also proves the number its patient's (add_contact_point keeps
  -- an unproven one inactive until then).
  update contact_points
     set last_inbound_at = now(),
         active = active or (channel <> 'telegram' and not verified)
                  or (blocked_at is not null
                      and (channel <> 'telegram' or telegram_bot is not distinct from $11)),
         verified = verified or channel <> 'telegram',
         blocked_at = case when channel <> 'telegram' or telegram_bot is not distinct from $11
                           then null else blocked_at end
   where $8 and channel = $9 and address = $10
), caregiver_back as (
  -- A caregiver a permanent error marked unreachable (migration 20260101012200) wrote: it can
  -- be reached again (on Telegram, through the default bot, which sends the alerts).
  update caregivers set blocked_at = null
   where blocked_at is not null and channel = $9 and address = $10
     and ($9 <> 'telegram' or $11::text is null)
)
select count(*) from saved

-- name: mark_inbound_failed
-- $3: forget its payload (the person's text and number), as finish_turn does for a chat of
-- nobody's: the turn was refused by an erasure each time (bot/intake.py _fail).
update inbound_messages
   set status = 'failed', processed_at = now(), attempts = attempts + 1, last_error = $2,
       payload = case when $3 then '{}'::jsonb else payload end
 where id = $1 and status = 'received'

-- name: list_unprocessed
-- Rows still 'received' after $2 seconds (0 at start-up: every one an earlier process left).
select id from inbound_messages
 where status = 'received' and received_at <= now() - make_interval(secs => $2)
 order by received_at limit $1

-- name: ensure_conversation
insert into conversations (channel, chat_address, locale)
values ($1, $2, $3)
on conflict (channel, chat_address) do nothing

-- name: lock_conversation
select id, channel, chat_address, patient_id, step, state, locale
  from conversations where channel = $1 and chat_address = $2 for update

-- name: save_conversation
update conversations set patient_id = $2, step = $3, state = $4, locale = $5 where id = $1

-- name: get_patient
select * from patients where id = $1 and status <> 'deleted'

-- name: reminders_paused
-- Read again after a command said in words ran: "pause for an hour" pauses nothing (bot.engine).
select reminders_paused from patients where id = $1

-- name: get_contact_point
select * from contact_points where channel = $1 and address = $2

-- name: contact_patient
-- The consented, live patient whose contact point this chat is ($1 channel, $2 address), as
-- get_patient reads it: inbound from a known address reaches its patient without /start,
-- whoever created the patient (the bot, the dashboard, the API, a FHIR import).
select p.* from contact_points c join patients p on p.id = c.patient_id
 where c.channel = $1 and c.address = $2 and p.status <> 'deleted' and p.consent_at is not null

-- name: claim_other_phone_channel
-- A chat on one phone channel ($1: sms or whatsapp, $2 the number) that is no one's contact
-- point, from a number that is a consented, live patient's active contact point on the other
-- one ($3): the number wrote, so it is theirs here too: a verified contact point of theirs on
-- this channel, and the patient as get_patient reads it. A clinic registered the number for
-- one channel and the patient wrote on the other: it was a stranger, and /start made a second
-- record of one person. An inactive number (one a patient of no clinic typed, unproven) is not
-- the writer's (add_contact_point). No row when there is none, or when the chat became someone's.
with owner as (
  select c.patient_id from contact_points c join patients p on p.id = c.patient_id
   where c.channel = $3 and c.address = $2 and c.active
     and p.status <> 'deleted' and p.consent_at is not null
), added as (
  insert into contact_points (patient_id, channel, address, verified)
  select patient_id, $1, $2, true from owner
  on conflict (channel, address) do nothing
  returning patient_id
)
select p.* from patients p join added a on a.patient_id = p.id

-- name: link_patient
-- The patient wrote to the service (or the bot registered them from this chat): something
-- reached them (patients.linked_at, migration 20260101013800). $2: the turn's clock.
update patients set linked_at = $2 where id = $1 and linked_at is null

-- name: touch_contact_point
update contact_points set last_inbound_at = now() where channel = $1 and address = $2

-- name: opt_out_contact
-- STOP (or /stop) from this address ($1 channel, $2 address): its contact point, and every
-- caregiver saved with it, whoever's caregiver (migration 20260101012200): nothing more goes to
-- the person, missed-dose alerts included: those already planned (they wait alert_delay_minutes,
-- and quiet hours) are cancelled by the caregivers' trigger (migration 20260101012800).
with caregiver as (
  update caregivers set opted_out_at = coalesce(opted_out_at, now())
   where channel = $1 and address = $2
)
update contact_points set opted_out_at = coalesce(opted_out_at, now())
 where channel = $1 and address = $2

-- name: opt_in_contact
-- START (or /start) from an opted-out address: its contact point and its caregiver alerts resume.
with caregiver as (
  update caregivers set opted_out_at = null
   where channel = $1 and address = $2 and opted_out_at is not null
)
update contact_points set opted_out_at = null, active = true where channel = $1 and address = $2

-- name: unreachable_notice_waiting
-- Whether a caregiver of patient $1 is about to be told that reminders no longer reach them
-- (planned by the re-plan that follows the opt-out: scheduler/planning_unreachable.py).
select exists (
  select 1 from scheduled_messages
   where patient_id = $1 and template = 'patient_unreachable_caregiver' and status = 'pending')

-- name: find_invite
-- A link a clinic handed out (an invitation addressed to one patient is answered by join, never
-- by a new chat).
select id, patient_id, organization_id from patient_invites
 where token_hash = $1 and used_at is null and expires_at > $2 and invitee_patient_id is null
 for update

-- name: find_invite_for_join
-- An invite by token ($1 hash, unused and unexpired at $2) with its clinic's name and the one
-- patient it is addressed to, if any (an invitation sent to an address's owner).
select i.id, i.patient_id, i.organization_id, i.invitee_patient_id, o.name as clinic
  from patient_invites i join organizations o on o.id = i.organization_id
 where i.token_hash = $1 and i.used_at is null and i.expires_at > $2

-- name: lock_invite
-- The invite the patient is answering ($1), still unused and unexpired at $2, locked.
select id, patient_id, organization_id, invitee_patient_id from patient_invites
 where id = $1 and used_at is null and expires_at > $2
 for update

-- name: merge_patient
select public.merge_patient($1, $2, $3)

-- name: erase_patient
select public.erase_patient($1, $2, $3)

-- name: use_invite
update patient_invites set used_at = $2 where id = $1

-- name: create_patient
insert into patients (display_name, locale, timezone, consent_at, channel_order, status)
values (null, $1, $2, $3, $4, 'active')
returning id

-- name: consent_invited_patient
-- The clinic's record of the person agrees: its language (and all the clinic entered) stays.
update patients set consent_at = $2, status = 'active' where id = $1

-- name: upsert_contact_point
-- $5: the Telegram bot the person registered through (NULL: the default bot); their reminders
-- go through it (platforms/telegram_bots.py).
insert into contact_points (patient_id, channel, address, verified, telegram_bot)
values ($1, $2, $3, $4, $5)
on conflict (channel, address) do update
   set patient_id = excluded.patient_id, active = true,
       verified = contact_points.verified or excluded.verified,
       telegram_bot = excluded.telegram_bot
returning id

-- name: add_contact_point
-- Add an address the patient gave ($4: proven theirs, e.g. Telegram's own-contact share), or
-- reactivate it when it is theirs already. An address that belongs to another patient is left
-- as it is and no row is returned: giving a number does not take it from its owner (their
-- reminders and answers would follow it to a stranger).
-- A patient of no clinic is anyone who wrote to the bot: an address they typed, unproven, stays
-- inactive (nothing is sent to it) until a message from it proves it theirs (finish_turn).
-- Otherwise anyone could have the service text any number it likes, as often as they add
-- reminders, at the service's cost (SMS pumping). A clinic's patient's address is the clinic's
-- word, as when the clinic enters it. Returns the row's id and whether it is active.
insert into contact_points (patient_id, channel, address, verified, active)
select p.id, $2, $3, $4, $4 or p.organization_id is not null
  from patients p
 where p.id = $1
on conflict (channel, address) do update
   set active = excluded.active or contact_points.verified,
       verified = contact_points.verified or excluded.verified
 where contact_points.patient_id = excluded.patient_id
returning id, active

-- name: patient_channels
select channel from contact_points
 where patient_id = $1 and active and opted_out_at is null and blocked_at is null
 order by created_at

-- name: set_patient_name
update patients set display_name = $2 where id = $1

-- name: set_patient_locale
update patients set locale = $2 where id = $1

-- name: set_patient_timezone
update patients set timezone = $2 where id = $1

-- name: set_patient_timezone_from_settings
-- A new zone from /settings: the one they leave is pinned as home if the planner has not yet
-- (it pins at a 'home' patient's first plan): with no medicine yet, a trip's zone became home.
-- bot.dialogs.zone_moves then asks whether they moved there.
update patients set home_timezone = coalesce(home_timezone, timezone), timezone = $2
 where id = $1

-- name: next_reminder_at
-- When patient $1's next reminder comes after $2, as planned now (what /settings says a change
-- of zone mode did to their reminder times): a dose's time, or a snoozed dose's snooze end,
-- which comes first (a dose snoozed to 9:12 was left out: "Your next reminder: 9:30"); null when
-- none is planned.
select min(at)
  from dose_events,
       lateral (select case when status = 'snoozed' then snoozed_until else due_at end as at) r
 where patient_id = $1 and status in ('due', 'snoozed') and at > $2

-- name: set_patient_timezone_mode
-- The home zone is pinned here if the planner has not yet (it pins a 'home' patient's at their
-- first plan): a patient with no medicine yet who went 'follow me' to Tokyo and came back to
-- 'keep home times' had Tokyo pinned as home, London forgotten.
update patients set timezone_mode = $2, home_timezone = coalesce(home_timezone, timezone)
 where id = $1

-- name: set_channel_order
update patients set channel_order = $2 where id = $1

-- name: set_quiet_hours
update patients set quiet_start = $2, quiet_end = $3 where id = $1

-- name: set_name_medicine
update patients set name_medicine_in_reminders = $2 where id = $1

-- name: set_nagging
update patients set nag_interval_minutes = $2, nag_max = $3 where id = $1

-- name: upsert_caregiver
-- $6: the caregiver's IANA timezone, or null for "same as the patient".
-- A number proven before (prove_caregiver_address) stays proven. Returns whether it is.
with gone as (update caregivers set active = false where patient_id = $1 and active)
insert into caregivers (patient_id, name, channel, address, alert_delay_minutes, timezone,
                        proven_at)
values ($1, $2, $3, $4, $5, $6,
        (select max(c.proven_at) from caregivers c where c.channel = $3 and c.address = $4))
returning id, proven_at is not null as proven

-- name: relink_caregiver
-- A link made for a Telegram caregiver typed in before links (migration 20260101014300), opened
-- by their chat ($4): the new row replaces the marked one (the patient's other caregivers, a
-- clinic's SMS one say, stay), keeping whether alerts may name the medicine. As upsert_caregiver.
with gone as (
  update caregivers set active = false
   where patient_id = $1 and active and awaiting_link_since is not null
  returning share_details
)
insert into caregivers (patient_id, name, channel, address, alert_delay_minutes, timezone,
                        share_details)
values ($1, $2, $3, $4, $5, $6, coalesce((select bool_or(share_details) from gone), false))
returning id, true as proven

-- name: drop_caregiver_links
-- The patient's links not used yet ($1): they named someone else or removed their caregiver, so
-- an old link must not make its caregiver theirs later.
delete from caregiver_links where patient_id = $1 and used_at is null

-- name: insert_caregiver_link
-- A Telegram caregiver waiting for their own chat to open the link (migration 20260101014100):
-- the patient's earlier links not used yet go (one caregiver is being named, the last link).
with gone as (delete from caregiver_links where patient_id = $1 and used_at is null)
-- $8: made for a caregiver typed in before links (relink_caregiver when opened).
insert into caregiver_links (patient_id, token_hash, name, alert_delay_minutes, timezone,
                             created_at, expires_at, relink)
values ($1, $2, $3, $4, $5, $6, $7, $8)

-- name: lock_caregiver_link
-- The unused, unexpired link of this token hash ($1) at $2, with its patient's name and language.
select l.id, l.patient_id, l.name, l.alert_delay_minutes, l.timezone, l.relink, p.display_name,
       p.locale
  from caregiver_links l
  join patients p on p.id = l.patient_id
 where l.token_hash = $1 and l.used_at is null and l.expires_at > $2 and p.status = 'active'
   for update of l

-- name: invite_token_known
-- Whether a patient invite has this token hash ($1), whatever its state (a /start argument that
-- looked like a caregiver's link and is not one).
select exists (select 1 from patient_invites where token_hash = $1)

-- name: caregiver_consents_again
-- The caregiver row a link just made ($1): its chat opened the link, a new consent, so the
-- address's earlier opt-out (/stop, copied by caregivers_opt_out_follows_address) does not hold.
update caregivers set opted_out_at = null where id = $1 and opted_out_at is not null

-- name: use_caregiver_link
update caregiver_links set used_at = $2, caregiver_id = $3 where id = $1

-- name: insert_caregiver_linked_notice
-- The patient is told their caregiver's chat is linked: through the durable outbound path, on
-- their channel order, at once.
insert into scheduled_messages (
  patient_id, message_content, scheduled_time, platform, kind, priority, urgent,
  allow_fallback, expires_at, idempotency_key, max_attempts)
values ($1, $2, $3, 'auto', 'system', 0, true, true, $4, $5, 3)
on conflict (idempotency_key) do nothing

-- name: caregivers_awaiting_a_link
-- Telegram caregivers typed in before links (awaiting_link_since, migration 20260101014300)
-- whose patient has not been sent a fresh link yet, or was sent one at or before $3 (so it
-- expired unopened: the caregiver is still marked) and only one (20260101014400), locked for the
-- worker that sends it (medremind/caregiver_relinks.py), at most $2. Left for later: a patient
-- who cannot be messaged now, and one with a link of their own not opened yet (their newer
-- choice stands), and a caregiver who opted out (they said no more alerts).
select c.id, c.patient_id, c.name, c.alert_delay_minutes, c.timezone, c.link_offers, p.locale
  from caregivers c
  join patients p on p.id = c.patient_id
 where c.awaiting_link_since is not null and c.link_offers < 2
   and (c.link_offered_at is null or c.link_offered_at <= $3)
   and c.active and c.opted_out_at is null
   and p.status = 'active' and p.consent_at is not null
   and not exists (select 1 from caregiver_links l
                    where l.patient_id = c.patient_id and l.used_at is null
                      and l.expires_at > $1)
 order by c.awaiting_link_since, c.id
 limit $2
   for update of c skip locked

-- name: insert_caregiver_relink_notice
-- The patient's message with a fresh link for caregiver $1 (text $3 at $4, worth sending until
-- $5, the link's end; $6 its idempotency key, one per offer): on their channel order, not
-- urgent (their quiet hours hold it).
with offered as (
  update caregivers set link_offered_at = $4, link_offers = link_offers + 1 where id = $1
)
insert into scheduled_messages (
  patient_id, message_content, scheduled_time, platform, kind, urgent, allow_fallback,
  expires_at, idempotency_key, max_attempts)
values ($2, $3, $4, 'auto', 'system', false, true, $5, $6, 3)
on conflict (idempotency_key) do nothing

-- name: patient_home_zone
-- The zone patient $1's reminders keep at home (home_timezone, else the zone they are in before
-- the planner pinned one), for a caregiver who is "Same as mine"; null when the database does not
-- know it (the caregivers_timezone_iana check; Etc/Unknown).
select z from (select coalesce(home_timezone, timezone) as z from patients where id = $1) p
 where public.is_iana_timezone(z)

-- name: caregiver_timezone_known
-- Whether the database accepts $1 as a caregiver's timezone (the caregivers_timezone_iana check).
select public.is_iana_timezone($1)

-- name: prove_caregiver_address
-- A text from this number ($1 sms or whatsapp, $2 the number) proves it the number of whoever
-- named it a caregiver (planner.sql mark_missed holds the alerts of unproven ones). Returns the
-- caregivers it proved now, with the patient who named each (bot.engine tells the caregiver).
with proven as (
  update caregivers set proven_at = now()
   where channel = $1 and address = $2 and proven_at is null
  returning patient_id, name, active
)
select proven.name as caregiver_name, p.display_name as patient_name, p.locale
  from proven join patients p on p.id = proven.patient_id
 where proven.active and p.status <> 'deleted'
 order by p.created_at

-- name: remove_caregivers
update caregivers set active = false where patient_id = $1

-- name: get_caregiver
select * from caregivers where patient_id = $1 and active order by created_at desc limit 1

-- name: insert_medication
-- $5: pills a dose, read from the dose as typed ("2 pastillas": 2; bot/dose_amount.py).
insert into medications (patient_id, name, dose, pill_count, pills_per_dose)
values ($1, $2, $3, $4, $5)
returning id

-- name: insert_schedule
insert into reminder_schedules
  (medication_id, patient_id, times_of_day, days_of_week, every_n_days, start_date, end_date)
values ($1, $2, $3, $4, $5, $6, $7)
returning id

-- name: count_medicines
-- The patient's medicines that are not deleted (active or paused).
select count(*) from medications where patient_id = $1 and status <> 'deleted'

-- name: list_medications
select m.id, m.name, m.dose, m.pill_count, m.status,
       s.id as schedule_id, s.times_of_day, s.days_of_week, s.every_n_days, s.start_date, s.end_date,
       s.timezone
  from medications m
  left join lateral (
    select * from reminder_schedules rs
     where rs.medication_id = m.id and rs.status <> 'ended'
     order by rs.created_at desc limit 1
  ) s on true
 where m.patient_id = $1 and m.status <> 'deleted'
 -- The order public.medicine_labels numbers them in (reminders say "medicine 2").
 order by m.created_at, m.id

-- name: get_medication
select * from medications where id = $1 and patient_id = $2 and status <> 'deleted'

-- name: set_medication_status
update medications set status = $3 where id = $1 and patient_id = $2

-- name: set_schedules_status
update reminder_schedules set status = $3, version = version + 1
 where medication_id = $1 and patient_id = $2 and status <> 'ended'
returning id

-- name: set_schedule_times
update reminder_schedules set times_of_day = $3, version = version + 1
 where medication_id = $1 and patient_id = $2 and status <> 'ended'
returning id

-- name: planned_doses_between
-- The medicine's doses planned from $2 to $3 (a moved time's confirmation says whether today
-- still has its reminder: bot/dialogs/medicines.py).
select due_at from dose_events
 where medication_id = $1 and status <> 'cancelled' and due_at >= $2 and due_at < $3

-- name: cancel_future_doses
with cancelled as (
  update dose_events set status = 'cancelled'
   where medication_id = $1 and status in ('due', 'snoozed') and due_at > $2
  returning id
)
update scheduled_messages set status = 'cancelled'
 where status = 'pending' and dose_event_id in (select id from cancelled)

-- name: dose_subject
-- What an answer's confirmation says it recorded: the dose's time in the patient's zone and, as
-- the reminder did, the medicine's name (the patient's opt-in) or its number where the patient has
-- several (migration 20260101011200). No row: not this patient's dose.
select d.due_at, d.local_date, d.local_time, p.timezone,
       p.name_medicine_in_reminders as name_medicine,
       m.name as medication_name, (l.label ->> 'medicine_number')::integer as medicine_number
  from dose_events d
  join medications m on m.id = d.medication_id
  join patients p on p.id = d.patient_id
  left join lateral public.medicine_labels(array[d.patient_id]) l
         on l.medication_id = d.medication_id
 where d.id = $1 and d.patient_id = $2

-- name: get_dose_event
select d.*, m.name as medication_name, m.dose as medication_dose
  from dose_events d join medications m on m.id = d.medication_id
 where d.id = $1 and d.patient_id = $2

-- name: fallback_record_dose
update dose_events
   set status = $2, answered_at = $3, answered_channel = $4, snoozed_until = $5
 where id = $1
returning id

-- name: today_doses
-- The doses due in [$2, $3): the patient's day where they are now. Not by local_date: that is the
-- date in the schedule's zone, which is the home zone while a 'home' patient travels. And any
-- dose still waiting for an answer ('due', 'snoozed') that fell due in [$4, $2): the 23:30 dose
-- snoozed to 00:15 is still open at 00:20, when "today" has moved on (as the patient app's
-- today_doses, patient_app.sql).
select d.id, d.status, d.due_at, d.local_date, d.local_time, m.name as medication_name,
       m.dose as medication_dose
  from dose_events d join medications m on m.id = d.medication_id
 where d.patient_id = $1 and d.status <> 'cancelled'
   and ((d.due_at >= $2 and d.due_at < $3)
        or (d.status in ('due', 'snoozed') and d.due_at >= $4 and d.due_at < $2))
 order by d.due_at

-- name: dose_history
-- /stats: by due_at, counted on the patient's days where they are (not local_date: the
-- schedule's zone, the home one while a 'home' patient travels), as today_doses.
select d.status, d.due_at
  from dose_events d
 where d.patient_id = $1 and d.due_at >= $2 and d.due_at <= $3 and d.status <> 'cancelled'
 order by d.due_at

-- name: export_doses
select d.id, d.due_at, d.local_date, d.local_time, m.name as medication_name,
       m.dose as medication_dose, d.status, d.answered_at, d.answered_channel
  from dose_events d join medications m on m.id = d.medication_id
 where d.patient_id = $1 and d.due_at <= $2
 order by d.due_at, m.name

-- name: latest_reminder_dose
select sm.dose_event_id
  from scheduled_messages sm join dose_events d on d.id = sm.dose_event_id
 where sm.patient_id = $1 and sm.dose_event_id is not null
   and sm.status in ('sent', 'delivered', 'processing')
   and d.status in ('due', 'snoozed')
 order by coalesce(sm.sent_at, sm.scheduled_time) desc
 limit 1

-- name: latest_open_dose
select id from dose_events
 where patient_id = $1 and status in ('due', 'snoozed') and due_at <= $2
 order by due_at desc limit 1

-- name: upcoming_appointments
-- With the clinic's zone: its time is named beside the patient's where they differ.
select a.*, o.name as clinic_name, o.timezone as clinic_timezone
  from appointments a join organizations o on o.id = a.organization_id
 where a.patient_id = $1 and a.starts_at > $2
   and a.status in ('scheduled', 'confirmed', 'reschedule_requested')
 order by a.starts_at limit 10

-- name: get_appointment
select a.*, o.name as clinic_name, o.timezone as clinic_timezone
  from appointments a join organizations o on o.id = a.organization_id
 where a.id = $1 and a.patient_id = $2

-- name: set_appointment_status
update appointments set status = $3 where id = $1 and patient_id = $2

-- name: latest_reminded_appointment
select sm.appointment_id
  from scheduled_messages sm join appointments a on a.id = sm.appointment_id
 where sm.patient_id = $1 and sm.appointment_id is not null
   and sm.status in ('sent', 'delivered', 'processing') and a.starts_at > $2
   and a.status in ('scheduled', 'confirmed', 'reschedule_requested')
 order by coalesce(sm.sent_at, sm.scheduled_time) desc
 limit 1

-- name: next_appointment
select id from appointments
 where patient_id = $1 and starts_at > $2
   and status in ('scheduled', 'confirmed', 'reschedule_requested')
 order by starts_at limit 1

-- name: cancel_appointment_messages
update scheduled_messages set status = 'cancelled'
 where appointment_id = $1 and status = 'pending'

-- name: organization_contact
select o.name, o.contact_phone, o.contact_email
  from patients p join organizations o on o.id = p.organization_id
 where p.id = $1

-- name: forget_inbound
delete from inbound_messages i
 using contact_points c
 where c.patient_id = $1 and i.channel = c.channel and i.chat_address = c.address and i.id <> $2

-- name: audit
insert into audit_log (organization_id, actor, action, entity, entity_id)
values ($1, 'patient', $2, $3, $4)

-- name: reset_conversation
update conversations set step = 'idle', state = state - 'data'
 where channel = $1 and chat_address = $2

-- name: store_replies
-- A turn's replies to the chat ($1 channel, $2 address), in order, written in the turn's
-- transaction as rows leased to the web process ($4 holder, $5 lease seconds) that sends them
-- at once (bot/reply_rows.py): the chat's patient (none for a stranger), on the chat's channel
-- only, urgent (past quiet hours: the person just wrote), expiring after $3 seconds. Each row
-- after the first is due only at its expiry until the one before it is done (payload 'then',
-- migration 20260101009000). $6.. are aligned per reply: id, text, payload, idempotency key
-- (a turn stores its replies once), lease token.
insert into scheduled_messages
  (id, organization_id, patient_id, conversation_id, message_content, platform, kind, payload,
   priority, urgent, allow_fallback, expires_at, idempotency_key, status, attempts, locked_by,
   locked_until, lease_token, scheduled_time)
select r.id, p.organization_id, c.patient_id, c.id, r.body, c.channel, 'system', r.payload, 0,
       true, false,
       now() + make_interval(secs => $3::float8), r.key, 'processing', 1, $4,
       clock_timestamp() + make_interval(secs => $5::float8), r.token,
       case when r.n = 1 then now() else now() + make_interval(secs => $3::float8) end
  from conversations c
  -- The clinic here, not by the insert trigger's lookup (a query per row).
  left join patients p on p.id = c.patient_id
 cross join unnest($6::uuid[], $7::text[], $8::jsonb[], $9::text[], $10::uuid[])
       with ordinality as r(id, body, payload, key, token, n)
 where c.channel = $1 and c.chat_address = $2
on conflict (idempotency_key) do nothing
returning id

-- name: open_questions
-- The chat's open questions about doses, appointments and slot offers ($1 channel, $2 address,
-- $3 patient), newest first: not answered, asked since $5, and their dose or appointment still
-- waiting at $4 (a dose due, snoozed or missed, for a late answer; an appointment ahead and not
-- cancelled). An offer stays open until this patient answered it, also once someone else took
-- the slot or it expired: the patient's "1" then hears that, rather than reaching an older
-- question they did not mean.
-- A sent reminder's question names its message alone (migration 20260101013100): its patient,
-- dose and appointment are read through the message (a primary-key lookup), and a dose or
-- appointment that is not that patient's is no subject.
-- A dose's medicine as its reminder named it: by name where the patient opted in, else by its
-- number where the patient has several (migration 20260101011200).
select q.id, q.seq, q.options, q.asked_at, s.dose_event_id, s.appointment_id,
       d.due_at, d.local_date, d.local_time, a.starts_at, o.starts_at as offer_starts_at,
       case when p.name_medicine_in_reminders then m.name end as medicine_name,
       (l.label ->> 'medicine_number')::integer as medicine_number
  from conversation_questions q
  left join scheduled_messages sm on q.patient_id is null and sm.id = q.message_id
 cross join lateral (
   select coalesce(q.patient_id, sm.patient_id) as patient_id,
          coalesce(q.dose_event_id, sm.dose_event_id) as dose_event_id,
          coalesce(q.appointment_id,
                   case when sm.dose_event_id is null then sm.appointment_id end) as appointment_id
 ) s
  join patients p on p.id = s.patient_id
  left join dose_events d on d.id = s.dose_event_id and d.patient_id = s.patient_id
  left join medications m on m.id = d.medication_id
  left join lateral public.medicine_labels(array[d.patient_id]) l
         on l.medication_id = d.medication_id
  left join appointments a on a.id = s.appointment_id and a.patient_id = s.patient_id
  left join slot_offer_recipients r on r.id = q.slot_offer_recipient_id
  left join slot_offers o on o.id = r.offer_id
 where q.channel = $1 and q.chat_address = $2 and s.patient_id = $3 and q.answered_at is null
   and q.asked_at >= $5
   and num_nonnulls(s.dose_event_id, s.appointment_id, q.slot_offer_recipient_id) > 0
   and (s.dose_event_id is null or d.status in ('due', 'snoozed', 'missed'))
   and (s.appointment_id is null
        or (a.starts_at > $4 and a.status in ('scheduled', 'confirmed', 'reschedule_requested')))
   and (q.slot_offer_recipient_id is null or r.status in ('offered', 'too_late'))
 order by q.asked_at desc, q.seq desc
 limit 10

-- name: open_questions_elsewhere
-- The patient's ($3) open questions about doses and appointments that their reminders asked on
-- their other chats (not channel $1, address $2), newest first, as open_questions reads them:
-- a patient reminded by SMS who writes "taken" in their Telegram chat was told nothing was
-- waiting (bot.engine). Asked since $5, the dose or appointment still waiting at $4. Through
-- the patient's messages (scheduled_messages_patient_idx): a question answerable for 12 hours
-- (core.answer_buttons.QUESTION_TTL) was asked by a message due at most a day before it (a
-- reminder expires 2 hours after its time, an appointment's message within a day).
select q.id, q.seq, q.options, q.asked_at, sm.dose_event_id,
       case when sm.dose_event_id is null then sm.appointment_id end as appointment_id,
       d.due_at, d.local_date, d.local_time, a.starts_at, null::timestamptz as offer_starts_at,
       case when p.name_medicine_in_reminders then m.name end as medicine_name,
       (l.label ->> 'medicine_number')::integer as medicine_number
  from scheduled_messages sm
  join conversation_questions q on q.id = sm.id
  join patients p on p.id = sm.patient_id
  left join dose_events d on d.id = sm.dose_event_id and d.patient_id = sm.patient_id
  left join medications m on m.id = d.medication_id
  left join lateral public.medicine_labels(array[d.patient_id]) l
         on l.medication_id = d.medication_id
  left join appointments a
         on a.id = sm.appointment_id and sm.dose_event_id is null and a.patient_id = sm.patient_id
 where sm.patient_id = $3 and sm.scheduled_time >= $5::timestamptz - interval '1 day'
   and sm.status in ('sent', 'delivered') and q.patient_id is null
   and (q.channel, q.chat_address) <> ($1, $2)
   and q.answered_at is null and q.asked_at >= $5
   and (d.id is not null or a.id is not null)
   and (d.id is null or d.status in ('due', 'snoozed', 'missed'))
   and (a.id is null
        or (a.starts_at > $4 and a.status in ('scheduled', 'confirmed', 'reschedule_requested')))
 order by q.asked_at desc, q.seq desc
 limit 10

-- name: ask_question
-- A question the bot itself asks about a dose or an appointment (the SMS /appointments list).
insert into conversation_questions
  (patient_id, channel, chat_address, dose_event_id, appointment_id, options, asked_at)
values ($1, $2, $3, $4, $5, $6, $7)

-- name: ask_again
-- A reminder's question named again to the patient ($1, at $2: "Also waiting for your answer",
-- bot/engine.py) takes its place as the newest question asked, after a dialog's menu asked
-- before it: a new seq, as a message sent again takes (migration 20260101014900). Only once
-- the question the patient answered ($3) is closed: an answer refused (a snooze while paused)
-- leaves that one the newest, as the patient may try it again.
update conversation_questions
   set asked_at = $2, seq = default
 where id = $1 and answered_at is null
   and exists (select from conversation_questions a
                where a.id = $3 and a.answered_at is not null)

-- name: close_questions
-- A dose ($1), appointment ($2) or slot offer ($4: its recipient row) was answered: every
-- question about it is answered ($3), a sent reminder's through its message (migration
-- 20260101013100: the message's dose, else its appointment, as the question's subject; its id
-- is the message's, 20260101013410).
update conversation_questions set answered_at = $3
 where answered_at is null
   and (dose_event_id = $1 or appointment_id = $2 or slot_offer_recipient_id = $4
        or (id = any(array(
             select sm.id from scheduled_messages sm where sm.dose_event_id = $1
             union all
             select sm.id from scheduled_messages sm
              where sm.appointment_id = $2 and sm.dose_event_id is null))
            and message_id is not null))

-- name: clinic_quiet_hours
-- The quiet window of the patient's clinic ($1 patient), which applies when the patient has none.
select o.default_quiet_start, o.default_quiet_end
  from patients p join organizations o on o.id = p.organization_id
 where p.id = $1

-- name: patient_preferences
-- The patient's preferences per category (patient_preferences, migration 20260101009710).
select category, patient_choice, clinic_choice, channel,
       public.preference_opted_out(patient_choice, clinic_choice) as opted_out
  from patient_preferences
 where patient_id = $1

-- name: set_patient_choice
-- The patient's own opt-in or opt-out of a category: only the patient's conversation writes it.
insert into patient_preferences (patient_id, category, patient_choice, patient_chose_at)
values ($1, $2, $3, $4)
on conflict (patient_id, category)
do update set patient_choice = excluded.patient_choice,
              patient_chose_at = excluded.patient_chose_at

-- name: set_preference_channel
-- The channel a category goes to first ($3 null: the patient's channel order).
insert into patient_preferences (patient_id, category, channel)
values ($1, $2, $3)
on conflict (patient_id, category) do update set channel = excluded.channel

-- name: set_standing_offsets
-- The patient's standing appointment reminder offsets in minutes ($2 null: the clinic's).
update patients set appointment_reminder_offsets = $2 where id = $1

-- name: clinic_reminder_offsets
-- The patient's clinic's default appointment reminder offsets (null without a clinic).
select o.appointment_reminder_offsets
  from organizations o
  join patients p on p.organization_id = o.id
 where p.id = $1

-- name: chat_of_another_clinic
-- Whether an update that came to $1 (a Telegram bot id other than the default's, or our number
-- on SMS/WhatsApp; $5 the messaging service) must not be answered with the chat's records: it
-- is a clinic's own bot or number (its provider account, whose token that clinic holds: it
-- reads what the bot sends, it can sign a Twilio webhook "from" any number). A chat is keyed by
-- its address alone: a Telegram chat id is the person's user id with every bot, a phone number
-- the same with every number it writes to. On a clinic's bot: the chat ($4 channel, $2 address;
-- $3 its conversation's patient) is a patient's who is not that clinic's, unless a patient of
-- no clinic yet registered this chat on this very bot (a stranger who started it). On a
-- clinic's number, whose messages the clinic can forge: the chat is not a patient's of that
-- clinic at all (a stranger too: no consent or registration in anyone's name, and the same
-- answer whether the number is known elsewhere or not).
select exists (
  select 1
    from clinic_provider_accounts a
   where a.channel = $4
     and case when $4 = 'telegram' then a.config->>'bot_id' = $1
              else a.inbound_number = $1 or a.messaging_service_sid = $5 end
     and case
           when $4 = 'telegram' then exists (
             select 1 from patients p
              where (p.id = $3
                     or p.id = (select c.patient_id from contact_points c
                                 where c.channel = $4 and c.address = $2))
                and p.organization_id is distinct from a.organization_id
                and not (p.organization_id is null
                         and exists (select 1 from contact_points c
                                      where c.channel = 'telegram' and c.address = $2
                                        and c.patient_id = p.id and c.telegram_bot = $1)))
           else not exists (
             select 1 from patients p
              where (p.id = $3
                     or p.id = (select c.patient_id from contact_points c
                                 where c.channel = $4 and c.address = $2))
                and p.organization_id = a.organization_id)
         end
)

-- name: patient_phone
-- A number the patient gave (SMS first, then WhatsApp): its country says which way round they
-- write a date, "3/1" (bot.date_order).
select address from contact_points
 where patient_id = $1 and channel in ('sms', 'whatsapp')
 order by channel = 'sms' desc, created_at
 limit 1
