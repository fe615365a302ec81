-- Dispatcher queries: claim, record outcomes in bulk, reap expired leases.
-- Every change to a claimed row is guarded by its lease token, so a worker that lost its lease
-- (paused, partitioned, slow) cannot overwrite what another worker recorded since.

-- name: claim_lease
-- Claim up to $2 due rows in priority order and lease them to worker $3 for $4 seconds
-- (scheduler/claim_sql.py puts the claim together: this, then claim_columns over claim_joins,
-- then claim_order).
--
-- The due rows come from message_queue's index (migration 20260101011000), in priority order,
-- locked; then their messages, with SKIP LOCKED: every other writer locks a message before its
-- queue row (the queue's triggers), so a claim that never waits for a message makes no deadlock
-- with them. (Locking the messages alone, joined to the queue, was planned as a sort of every
-- due row with a generic plan.) The update changes no indexed column of the wide row: a HOT
-- update where its page has room. The claim writes the lease into the queue rows it locked
-- itself and marks its statement (medremind.queue_leased), so the queue's trigger does not look
-- them up and write them again (migration 20260101013200).
--
-- One lease token per claim, shared by its rows (an InitPlan: gen_random_uuid() reads
-- /dev/urandom on a server built without OpenSSL, ~3-8 us a call): a lease is the pair (row,
-- token), and every later claim of a row draws a token of its own, so a worker whose lease
-- ended still cannot write the row (the record and every other lease-guarded write match both).
--
-- $6 of $7: the worker's share of the fleet for a claim ahead (else null: see picked).
--
-- $5: the token of the worker's cache, whose LISTEN connection is up (else null). A claim that
-- took rows then notifies it on medremind_cache: notifications arrive in commit order, so once
-- the worker has this one it has every invalidation of an edit this claim could see (migration
-- 20260101012000).
with picked as (
  select q.message_id
    from message_queue q
   where q.locked_until is null and q.scheduled_time <= $1
     -- A claim ahead of a peak takes the worker's share ($6 of $7; null: every row), the rows
     -- it rendered ahead (scheduler/fleet_share.py). A claim of due rows takes any.
     and ($7::int is null
          or (get_byte(uuid_send(q.message_id), 14) * 256
              + get_byte(uuid_send(q.message_id), 15)) % $7 = $6)
   order by q.priority, q.scheduled_time
   limit $2
   for update skip locked
), free as (
  -- "= any(array(...))" keeps these primary-key lookups however large the table grows (a join
  -- may be planned as a sequential scan of the whole table).
  -- Their places (ctid), for the update below: a lock leaves a row where it is, and it is
  -- held until the claim commits, so the update goes straight there (a TID scan) instead of
  -- looking every id up in the primary key again. (A row updated by a commit after this
  -- statement began is locked at its new place, which the update's snapshot does not see: it
  -- stays pending, to the next claim.)
  select m.ctid
    from scheduled_messages m
   where m.id = any(array(select message_id from picked)) and m.status = 'pending'
   for no key update skip locked
), claimed as (
  update scheduled_messages m
     set status = 'processing',
         locked_by = $3,
         locked_until = $1 + make_interval(secs => $4),
         lease_token = (select gen_random_uuid()),
         attempts = m.attempts + 1,
         -- Set here, not by the row trigger (migration 20260101009420).
         updated_at = now()
   where m.ctid = any(array(select ctid from free))
  returning m.id, m.patient_id, m.organization_id, m.message_content, m.scheduled_time,
            m.platform, m.kind, m.template, m.payload, m.priority, m.attempts, m.max_attempts,
            m.expires_at, m.urgent, m.allow_fallback, m.lease_token, m.locked_until,
            m.dose_event_id, m.appointment_id, m.caregiver_id, m.channels_tried,
            m.conversation_id
), leased as (
  -- The lease where the reaper looks for it (message_queue_lease_idx), the same value as the
  -- row's; the mark tells the queue's trigger this statement's rows are done (set once, with
  -- or without rows: the trigger clears it at the end of this statement either way).
  update message_queue q
     set locked_until = $1 + make_interval(secs => $4)
   where q.message_id = any(array(select id from claimed))
     and (select set_config('medremind.queue_leased', 'claim', true)) is not null
), barrier as materialized (
  select pg_notify('medremind_cache', $5::text)
   where $5::text is not null and exists (select from claimed)
)

-- name: claim_columns
-- A message as the dispatcher sends it (m: the message row), in the claimed-row layout of
-- scheduler/claims.py (CLAIM_COLUMNS): the message itself, its category, the dose (its answer,
-- its medicine's name and status), the appointment, the caregiver, and for a bot reply the
-- address of the chat it answers (a reply to a chat without a patient has no patient). The
-- patient, the clinic, the contact points and the preferences come from the worker's cache
-- (scheduler/claim_cache.py, filled by claim_patients). The claim and the render-ahead read
-- both use it, so they cannot drift apart. With claim_joins.
m.id, m.patient_id, m.lease_token, m.scheduled_time, m.platform, m.kind, m.attempts,
m.max_attempts, m.priority, m.message_content, m.template, m.expires_at, m.urgent,
m.allow_fallback, m.caregiver_id, m.dose_event_id, m.appointment_id,
public.message_category(m.kind, m.payload) as category,
cg.channel as caregiver_channel, cg.address as caregiver_address,
-- An opted-out or unreachable caregiver gets nothing (migration 20260101012200), nor
-- a Telegram one typed in and not linked yet (20260101014300).
cg.active and cg.opted_out_at is null and cg.blocked_at is null
  and cg.awaiting_link_since is null as caregiver_active,
cg.share_details as caregiver_share_details,
cg.name as caregiver_name, cg.timezone as caregiver_timezone,
med.name as medicine_name, med.dose as medicine_dose, de.due_at as dose_due_at,
de.status as dose_status, med.status as medication_status,
a.starts_at as appointment_starts_at, a.location as appointment_location,
a.clinician_name as appointment_clinician, a.status as appointment_status,
cv.chat_address as reply_address,
m.channels_tried, m.payload

-- name: claim_joins
-- The rows claim_columns reads beside the message's (m), each by its primary key.
  left join conversations cv on cv.id = m.conversation_id and cv.channel = m.platform
  left join caregivers cg on cg.id = m.caregiver_id
  left join dose_events de on de.id = m.dose_event_id
  left join medications med on med.id = de.medication_id
  left join appointments a on a.id = m.appointment_id

-- name: claim_order
-- A claim hands its batch over in priority order (sends start in this order). The where is
-- evaluated once (no column of m): the barrier's notification is sent with the claim.
 where (select count(*) from barrier) >= 0
 order by m.priority, m.scheduled_time

-- name: claim_patients
-- Claimed messages' patients ($1), what a claim needs of each, for the worker's cache
-- (scheduler/claim_cache.py): the patient, the clinic's name, quiet-hours defaults and zone (its
-- appointments' times, scheduler/appointment_times.py), the contact points as aligned arrays
-- (they decode faster than JSON objects), and the category preferences as aligned arrays (the
-- patient's choice, else the clinic's: public.preference_opted_out). Key lookups only; a patient
-- who is gone has no row.
select p.id, p.locale, p.timezone, p.display_name, p.quiet_start, p.quiet_end,
       p.name_medicine_in_reminders, p.status as patient_status, p.reminders_paused,
       p.reminders_paused_by, p.consent_at is not null as consented,
       o.name as organization_name, o.default_quiet_start, o.default_quiet_end,
       p.organization_id, o.timezone as organization_timezone, p.channel_order,
       cps.contact_ids, cps.contact_channels, cps.contact_addresses, cps.contact_usable,
       cps.contact_bots, pps.categories, pps.opted_out, pps.channels
  from patients p
  left join organizations o on o.id = p.organization_id
  left join lateral (
    select array_agg(cp.id) as contact_ids, array_agg(cp.channel) as contact_channels,
           array_agg(cp.address) as contact_addresses,
           array_agg(cp.active and cp.opted_out_at is null and cp.blocked_at is null)
             as contact_usable,
           -- A Telegram chat's bot (platforms/telegram_bots.py; NULL: the default bot).
           array_agg(cp.telegram_bot) as contact_bots
      from contact_points cp
     where cp.patient_id = p.id
  ) cps on true
  left join lateral (
    select array_agg(pp.category) as categories,
           array_agg(coalesce(public.preference_opted_out(pp.patient_choice, pp.clinic_choice),
                              false)) as opted_out,
           array_agg(pp.channel) as channels
      from patient_preferences pp
     where pp.patient_id = p.id
  ) pps on true
 where p.id = any($1::uuid[])

-- name: prefetch_patients
-- The patients of pending messages due after $1 (or now, if later) and up to $2 (null: $3
-- seconds from now), after patient $5 (null: from the first), of the messages in the worker's share
-- ($6 of $7, scheduler/fleet_share.py; null: all), at most $4, in patient order; and that upper
-- bound. The worker reads them into its cache before they are due (scheduler/claim_prefetch.py),
-- so a burst at 08:00 claims without reading its patients. A full answer is paged on (the same
-- window, after its last patient): 100,000 messages due at one instant share one due time, so
-- the window cannot be cut by time. By the plain time index of the wide table: future rows only,
-- whatever the queue holds beyond the window. Never from before now: a row already due is the
-- claim's (it reads a missing patient itself). Paging on through a window whose instant had
-- passed read the 100,000 rows of an 08:00 burst again each second, while they were claimed
-- (~11 us of PostgreSQL CPU a message of the burst, issue 20). The bounds are written into the
-- condition, not joined from a CTE: the planner, not knowing them, sorted every pending row of
-- the table by patient (a whole-table scan, 0.25-0.4 s each second among 1,000,000 rows, all day
-- and through the burst, where it was ~8 us of PostgreSQL CPU a message).
select array(select distinct m.patient_id
               from scheduled_messages m
              where m.scheduled_time > greatest(coalesce($1, now()), now())
                and m.scheduled_time <= coalesce($2, now() + make_interval(secs => $3))
                and m.status = 'pending' and m.patient_id is not null
                and ($5::uuid is null or m.patient_id > $5)
                and ($7::int is null
                     or (get_byte(uuid_send(m.id), 14) * 256
                         + get_byte(uuid_send(m.id), 15)) % $7 = $6)
              order by m.patient_id
              limit $4) as patients,
       coalesce($2, now() + make_interval(secs => $3)) as upper

-- name: fleet_share
-- Worker $1 is alive; how many workers are (itself and those seen within $2 seconds), its rank
-- among them (by id), and now + $3 seconds (the render-ahead window's end): see
-- scheduler/fleet_share.py. A worker gone a day is forgotten.
with me as (
  insert into worker_presence as w (worker, seen_at) values ($1, now())
  on conflict (worker) do update set seen_at = excluded.seen_at
), others as (
  select w.worker from worker_presence w
   where w.seen_at > now() - make_interval(secs => $2) and w.worker <> $1
), gone as (
  delete from worker_presence w where w.seen_at < now() - interval '1 day'
)
select (select count(*) from others where worker < $1)::int as rank,
       (select count(*) from others)::int + 1 as workers,
       now() + make_interval(secs => $3) as upper

-- name: leave_fleet
-- Worker $1 stops: the others take its share at their next pass.
delete from worker_presence where worker = $1

-- name: render_ahead_where
-- Pending messages due after $1 and after $3 seconds from now (what is due sooner is the
-- claim's: a backlog already due never holds the window back), up to $2, in the claim's layout
-- (scheduler/claim_sql.py: claim_columns over claim_joins, then this; no lease yet, the attempts
-- as they are): the worker renders them before they are due (scheduler/render_ahead.py) and
-- sends what it rendered only for a claim equal to what this read. By the plain time index of
-- the wide table, soonest first, read through a cursor. Only the worker's share ($4 of $5,
-- scheduler/fleet_share.py; null: every message): each text is rendered once per fleet.
 where m.scheduled_time > greatest($1, now() + make_interval(secs => $3))
   and m.scheduled_time <= $2
   and m.status = 'pending'
   and ($5::int is null
        or (get_byte(uuid_send(m.id), 14) * 256 + get_byte(uuid_send(m.id), 15)) % $5 = $4)
 order by m.scheduled_time

-- name: record
-- Apply a batch of outcomes and insert their attempt rows, in one statement. $1: the outcomes,
-- a row each (public.dispatch_outcome, migration 20260101017000: one array element a message,
-- not thirteen); attempt arrays ($2-$9) aligned per attempt. A sent message's own attempt (the
-- send that succeeded: its time, channel and provider id are the outcome's) comes as its
-- outcome's duration (sent_ms, scheduler.claims.record_statement): one field instead of eight
-- elements. Attempts are written even when the lease was lost: they happened. Returns the ids
-- whose outcome was applied (lease still held, or a send of a row reaped and not claimed again).
with outcome as (
  select * from unnest($1::public.dispatch_outcome[]) with ordinality
           as u(id, token, status, next_time, attempts_delta, last_error, sent_at,
                provider_message_id, channel_used, channels_tried, rendered_text, question,
                sent_ms, place)
), applied as (
  update scheduled_messages m
     set status = u.status,
         scheduled_time = coalesce(u.next_time, m.scheduled_time),
         -- A caregiver's alert held to the end of their quiet window keeps its life from there:
         -- the planner gives it 12 hours from its time, and a clinic's 14-hour night let it
         -- expire on the way, the caregiver never told (tests/planner/
         -- test_caregiver_alert_long_night.py). The reason is scheduler.quiet_hours's
         -- DEFERRED_REASON. An integrator's expires_at stays a deadline.
         expires_at = case
           when u.last_error = 'deferred to the end of quiet hours' and u.next_time is not null
                and m.caregiver_id is not null
           then m.expires_at + (u.next_time - m.scheduled_time)
           else m.expires_at end,
         attempts = greatest(m.attempts + u.attempts_delta, 0),
         last_error = u.last_error,
         sent_at = coalesce(u.sent_at, m.sent_at),
         provider_message_id = coalesce(u.provider_message_id, m.provider_message_id),
         channel_used = coalesce(u.channel_used, m.channel_used),
         -- A template's text as sent, for a row that had no text of its own.
         message_content = coalesce(m.message_content, u.rendered_text),
         channels_tried = case when u.channels_tried is null then m.channels_tried
                               else string_to_array(u.channels_tried, ',') end,
         locked_by = null,
         locked_until = null,
         lease_token = null,
         updated_at = now()
    from outcome u
   -- A primary-key lookup per outcome (a nested loop over the unnest). "status = 'processing'"
   -- must not prove a partial index usable: the planner, whose statistics see almost no leased
   -- rows, then walked the whole index of leased rows for every batch (migration 20260101010010).
   -- A sent outcome is also taken for a row the reaper returned to pending and nobody claimed
   -- or changed since (its token is still this lease's: see reap): it went, so it must not go
   -- again.
   where m.id = u.id and m.lease_token = u.token
     and (m.status = 'processing' or m.status = 'pending' and u.status = 'sent')
  returning m.id, m.patient_id, m.dose_event_id, m.appointment_id, m.sent_at
), asked as (
  -- The question a sent reminder or slot offer asked, on the chat it went to ($20:
  -- scheduler/questions.py). A reminder's names its message alone: its patient, dose and
  -- appointment are the message's (migration 20260101013100: no key to check per question). An
  -- offer names its recipient row and patient; only the message's own patient's counts (any
  -- other id records no question rather than failing the batch).
  -- The question takes its message's id (migration 20260101013410: the primary key serves the
  -- readers by message). A message asks one: sent again (a fallback after "undelivered", a
  -- retry), it replaces its question, open again on the chat it went to, and takes a new seq
  -- with its new asked_at: asked after what the chat was asked meanwhile, the dialog's question
  -- too (migration 20260101014900); a message given twice in one batch asks once (its latest
  -- outcome's question).
  -- Inserted in the batch's order (the order the sends ended): questions of one chat asked at
  -- the same instant (two medicines at 08:00) take their seq as the patient received them, and
  -- the newest is the one sent last. In the order of their message ids, as the distinct sorted
  -- them, a typed "Skip" went to either reminder (the stateful answer router test found it).
  insert into conversation_questions
    (id, patient_id, channel, chat_address, message_id, slot_offer_recipient_id, options,
     asked_at)
  select id, patient_id, channel, chat_address, message_id, slot_offer_recipient_id, options,
         asked_at
    from (select distinct on (a.id) a.id, r.patient_id, q.value ->> 'channel' as channel,
                 q.value ->> 'address' as chat_address, a.id as message_id,
                 r.id as slot_offer_recipient_id, q.value -> 'options' as options,
                 a.sent_at as asked_at, u.place
            from applied a
            join outcome u on u.id = a.id
           -- "offset 0": parsed once per question, not once per reference below.
           cross join lateral (select u.question::jsonb as value offset 0) q
            left join slot_offer_recipients r
              on num_nonnulls(a.dose_event_id, a.appointment_id) = 0
             and r.id = (q.value ->> 'slot_offer')::uuid and r.patient_id = a.patient_id
           where u.question is not null and a.sent_at is not null
             and (num_nonnulls(a.dose_event_id, a.appointment_id) > 0 or r.id is not null)
           order by a.id, u.place desc) asked_once
   order by place
  on conflict (id) do update
     set patient_id = excluded.patient_id, channel = excluded.channel,
         chat_address = excluded.chat_address,
         slot_offer_recipient_id = excluded.slot_offer_recipient_id,
         options = excluded.options, asked_at = excluded.asked_at, answered_at = null,
         seq = default
), attempts as (
  insert into message_delivery_attempts
    (message_id, attempt_time, status, error_message, channel, error_class,
     provider_message_id, duration_ms)
  select * from unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::int[])
  union all
  select u.id, u.sent_at, 'sent', null, u.channel_used, null, u.provider_message_id, u.sent_ms
    from outcome u
   where u.sent_ms is not null
), vouched as materialized (
  -- Every question above names a message this statement updated, and so, unless a lease was
  -- lost, does every attempt: locked until the commit, those messages cannot be gone, and the
  -- tables' existence checks are told so (migration 20260101017300; they clear the marks).
  select set_config('medremind.questions_checked', 'record', true),
         set_config('medremind.attempts_checked',
                    case when not exists (select from unnest($2::uuid[]) as a(id)
                                           where a.id not in (select id from applied))
                          and not exists (select from outcome u
                                           where u.sent_ms is not null
                                             and u.id not in (select id from applied))
                         then 'record' else '' end,
                    true)
)
-- "vouched" is read here so that it runs (a select in a with runs only when read).
select id from applied where (select count(*) from vouched) >= 0

-- name: existing_messages
-- Which of the messages $1 still exist (a record that failed on an erased message's attempt
-- is written again without it: scheduler/claims.py without_erased, for the dispatcher and the
-- web process's replies).
select id from scheduled_messages where id = any($1::uuid[])

-- name: hold_at_send
-- Each send's patient ($1), contact point ($2; a caregiver alert's caregiver), dose ($3), category
-- preference (kind $4, payload $5) and appointment ($6) as they are right before the send, for a batch of sends in
-- aligned arrays (scheduler.send_checks; scheduler.delivery_gate.verdict_at_send decides): a
-- /pause, STOP, opt-out of the category, erasure, answer, the dose's medicine paused or deleted, or
-- the appointment cancelled may have landed since the claim. Row n answers send n; a send whose patient is gone has no row.
-- Key lookups only.
select u.n, p.status as patient_status, p.reminders_paused, p.reminders_paused_by,
       p.consent_at is not null as consented,
       (select d.status from dose_events d where d.id = u.dose_id) as dose_status,
       (select m.status from dose_events d join medications m on m.id = d.medication_id
         where d.id = u.dose_id) as medication_status,
       (select a.status from appointments a where a.id = u.appointment_id)
         as appointment_status,
       coalesce((select public.preference_opted_out(pp.patient_choice, pp.clinic_choice)
                   from patient_preferences pp
                  where pp.patient_id = p.id
                    and pp.category = public.message_category(u.kind, u.payload)), false)
         as category_opted_out,
       coalesce((select cp.active and cp.opted_out_at is null and cp.blocked_at is null
                   from contact_points cp where cp.id = u.contact_id),
                 -- A caregiver's alert names the caregiver here (migration 20260101012200).
                 (select cg.active and cg.opted_out_at is null and cg.blocked_at is null
                         and cg.awaiting_link_since is null
                    from caregivers cg where cg.id = u.contact_id), false) as contact_usable
  from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::uuid[])
         with ordinality as u(patient_id, contact_id, dose_id, kind, payload, appointment_id, n)
  join patients p on p.id = u.patient_id

-- name: hold_watermark
-- The oldest transaction still running (supabase/migrations/20260101019310_hold_changes.sql),
-- read right before a claim ahead: every older one had ended when the claim read its rows.
select pg_snapshot_xmin(pg_current_snapshot())::text::bigint

-- name: hold_changes_since
-- Whose send-stopping rows transactions from $1 (a hold_watermark) on changed: patient ids and
-- caregiver ids (an index range over the last seconds' entries), at most $2 entries: a
-- transaction left open somewhere holds the watermark back, up to the hour the log keeps, and
-- past $2 the caller checks every send row by row instead (scheduler.send_checks).
select patient_id, caregiver_id
  from hold_changes
 where xid >= $1::bigint::text::xid8
 limit $2

-- name: prune_hold_changes
-- Forget hold changes logged before $1 (a claim held ahead lives seconds, its lease minutes).
delete from hold_changes where changed_at < $1

-- name: still_held
-- Which rows claimed ahead ($2, their lease tokens $3) worker $1 still holds, read right before
-- they go to its senders: a clinic may have cancelled one since the claim (migration
-- 20260101018320, under the worker's handover lock).
select id from public.claimed_ahead_held($1, $2::uuid[], $3::uuid[]) as held(id)

-- name: cancelled_returns
-- Which of the rows whose return to pending was refused ($1) a clinic cancelled while the worker
-- held them claimed ahead (public.cancel_scheduled_message, migration 20260101018320, releases
-- the lease): let go, not lost to another worker.
select id from scheduled_messages where id = any($1::uuid[]) and status = 'cancelled'

-- name: deactivate_contacts
-- Mark contact points after permanent errors: effect is 'deactivate', 'opt_out' or 'invalid'.
-- An id may name a caregiver (an alert's): the carrier's opt-out opts out the caregiver's
-- address, a block or an invalid address makes it unreachable (migration 20260101012200).
with caregiver as (
  update caregivers cg
     set opted_out_at = case when u.effect = 'opt_out' then coalesce(cg.opted_out_at, $4)
                             else cg.opted_out_at end,
         blocked_at = case when u.effect <> 'opt_out' then coalesce(cg.blocked_at, $4)
                           else cg.blocked_at end
    from unnest($1::uuid[], $2::text[]) as u(id, effect)
    join caregivers hit on hit.id = u.id
   where cg.channel = hit.channel and cg.address = hit.address
)
update contact_points cp
   set active = case when u.effect = 'opt_out' then cp.active else false end,
       blocked_at = case when u.effect = 'deactivate' then coalesce(cp.blocked_at, $4) else cp.blocked_at end,
       opted_out_at = case when u.effect = 'opt_out' then coalesce(cp.opted_out_at, $4)
                           else cp.opted_out_at end,
       last_error = u.error
  from unnest($1::uuid[], $2::text[], $3::text[]) as u(id, effect, error)
 where cp.id = u.id

-- name: move_addresses
-- A provider moved an address (Telegram group migrated to a supergroup): follow it.
update contact_points cp
   set address = u.address
  from unnest($1::uuid[], $2::text[]) as u(id, address)
 where cp.id = u.id
   and not exists (select 1 from contact_points o where o.channel = cp.channel and o.address = u.address)

-- name: renew
-- Renew the leases a live worker holds on rows it is sending or has sent and not yet recorded
-- (scheduler/lease_keeper.py): rows $1 with tokens $2 (aligned) whose lease ends before $4 now
-- end at $3. Guarded as the record is (the token, and 'processing'): a row another worker took,
-- or one its owner edited, is not touched. A row the reaper returned to pending (the worker lost
-- the database for longer than the lease's margin) that nobody has claimed or changed since
-- keeps the token (see reap) and is taken back for worker $5: it went, or is going, and must not
-- go again. The queue's trigger copies the new end into message_queue, where the reaper and the
-- claim look. Returns how many.
with renewed as (
  update scheduled_messages m
     set status = 'processing',
         locked_by = coalesce(m.locked_by, $5),
         locked_until = $3,
         updated_at = now()
    from unnest($1::uuid[], $2::uuid[]) as u(id, token)
   where m.id = u.id and m.lease_token = u.token
     and (m.status = 'processing' and m.locked_until < $4 or m.status = 'pending')
  returning 1
)
select count(*) from renewed

-- name: next_due
-- When the earliest pending row becomes due (for sleeping until then).
-- The earliest of each priority's first (0-9, scheduled_messages' check): ten probes of the
-- queue's due index instead of a walk over every pending row (100,000 in a forecast peak).
select min((select q.scheduled_time from message_queue q
             where q.locked_until is null and q.priority = p
             order by q.scheduled_time limit 1))
  from generate_series(0, 9) p

-- name: take_send_slots
-- Send slots for a batch of sends, fleet-wide (see the migration send_rate_ledger).
select n, slot_at, granted, db_now, account_busy
  from take_send_slots($1, $2, $3, $4, $5, $6, $7) order by n

-- name: finish_send_slots
-- Sends answered (aligned keys, slots and seconds since each answer): each stops
-- counting toward its key's window a second after its answer (migration 20260101009200).
select finish_send_slots($1, $2, $3)

-- name: pause_send_key
-- A provider said retry_after: no worker starts a send on this key before then.
insert into send_rate_ledger as l (key, next_at, paused_until)
values ($1, clock_timestamp() + make_interval(secs => $2), clock_timestamp() + make_interval(secs => $2))
on conflict (key) do update
   set paused_until = greatest(coalesce(l.paused_until, excluded.paused_until), excluded.paused_until),
       next_at = greatest(l.next_at, excluded.next_at),
       updated_at = clock_timestamp()

-- name: prune_send_ledger
-- Forget keys idle for a while (recipients above all); their next slot is long past.
delete from send_rate_ledger
 where key in (select key from send_rate_ledger
                where next_at < $1 and (paused_until is null or paused_until < $1)
                limit 10000)

-- name: heartbeat
-- A worker's counters now ($4: [[name, {label: value}, value], ...]) and its breakers not closed
-- ($5: [{account, channel, state, failures, probe_in}, ...]); $6: its last, as it stops cleanly
-- (not alive from now on). Forgets workers silent for a day.
with beat as (
  insert into worker_heartbeats as h
         (worker_id, started_at, seen_at, counters, breakers, stopped_at)
  values ($1, $2, $3, $4, $5, case when $6::boolean then $3::timestamptz end)
  on conflict (worker_id) do update
     set seen_at = excluded.seen_at, counters = excluded.counters,
         started_at = excluded.started_at, breakers = excluded.breakers,
         stopped_at = excluded.stopped_at
)
delete from worker_heartbeats where seen_at < $3 - interval '1 day'

-- name: fleet_breakers
-- The workers heard from in the last $1 seconds and still running (medremind check): seconds
-- since, and their breakers not closed at that heartbeat.
select worker_id, extract(epoch from now() - seen_at)::float8 as silent_seconds, breakers
  from worker_heartbeats
 where seen_at > now() - make_interval(secs => $1) and stopped_at is null
 order by worker_id

-- name: prune_finished
-- Delete up to $2 finished messages scheduled before $1, oldest first, with their attempts (the
-- attempts' foreign key was replaced by a statement trigger: they are deleted here); rows
-- pointing at a message with "on delete cascade" go with it. Returns how many messages.
with old as (
  select id from scheduled_messages
   where status in ('sent', 'delivered', 'failed', 'cancelled', 'expired')
     and scheduled_time < $1
   order by scheduled_time
   limit $2
   for update skip locked
), attempts as (
  delete from message_delivery_attempts a where a.message_id = any(array(select id from old))
), messages as (
  delete from scheduled_messages m where m.id = any(array(select id from old)) returning 1
)
select count(*) from messages
