-- Retention's batched deletes (scheduler/retention.py): each statement deletes up to $2 rows
-- older than $1, oldest first, skipping rows another worker holds, and returns how many.
-- Finished messages and their attempts: dispatch.sql prune_finished.

-- name: prune_status_events
-- Twilio status callbacks. One never applied by now belongs to a send never recorded.
with old as (
  select id from delivery_status_events
   where received_at < $1
   order by received_at
   limit $2
   for update skip locked
), gone as (
  delete from delivery_status_events e where e.id = any(array(select id from old)) returning 1
)
select count(*) from gone

-- name: prune_inbound
-- Inbound updates processed (or given up on); one still to process is kept whatever its age.
with old as (
  select id from inbound_messages
   where status <> 'received' and received_at < $1
   order by received_at
   limit $2
   for update skip locked
), gone as (
  delete from inbound_messages i where i.id = any(array(select id from old)) returning 1
)
select count(*) from gone

-- name: prune_webhook_events
-- Outgoing webhook events whose deliveries are all over (delivered, failed or cancelled), with
-- those deliveries and their attempts (foreign keys on delete cascade).
with old as (
  select e.id from webhook_events e
   where e.created_at < $1
     and not exists (select 1 from webhook_deliveries d
                      where d.event_id = e.id and d.status in ('pending', 'delivering'))
   order by e.created_at
   limit $2
   for update skip locked
), gone as (
  delete from webhook_events e where e.id = any(array(select id from old)) returning 1
)
select count(*) from gone

-- name: prune_idempotency_keys
-- Stored answers to Idempotency-Key requests (a client retries within hours, not months).
with old as (
  select organization_id, key from api_idempotency_keys
   where created_at < $1
   order by created_at
   limit $2
   for update skip locked
), gone as (
  delete from api_idempotency_keys k
   using old
   where k.organization_id = old.organization_id and k.key = old.key
  returning 1
)
select count(*) from gone

-- name: prune_paid_usage
-- A clinic's Telegram paid broadcasts per minute (telegram_paid_usage): kept as long as the
-- messages they were counted beside.
with old as (
  select organization_id, minute from telegram_paid_usage
   where minute < $1
   order by minute
   limit $2
   for update skip locked
), gone as (
  delete from telegram_paid_usage u
   using old
   where u.organization_id = old.organization_id and u.minute = old.minute
  returning 1
)
select count(*) from gone

-- name: prune_unmatched_status_events
-- Twilio status callbacks no recorded send of their signer carries, after a few days: their send
-- will never be recorded (a callback for a clinic account's other messages, an unknown id).
with old as (
  select id from delivery_status_events
   where applied_at is null and received_at < $1
   order by received_at
   limit $2
   for update skip locked
), gone as (
  delete from delivery_status_events e where e.id = any(array(select id from old)) returning 1
)
select count(*) from gone
