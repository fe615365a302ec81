-- Outbox deliveries are marked as such (issue 16, item 7). A channel without provider
-- credentials writes its messages to the outbox folder (platforms/outbox.py; only in
-- `medremind dev` or with MEDREMIND_OUTBOX_ENABLED=true); the row was 'sent' like a real SMS and
-- nothing told a clinic that no patient received it. Every outbox receipt's id starts with
-- 'outbox:' (no provider's does: Twilio SIDs, Telegram message ids, e-mail Message-IDs), so the
-- mark is derived from it by the database: no writer can forget it, and the dispatcher's record
-- statement stays as it is. The dashboard and the API show it.
--
-- A stored generated column rewrites the table once, under an exclusive lock: run this
-- migration when the tables are small or traffic is low (retention keeps them bounded).
alter table public.scheduled_messages
  add column via_outbox boolean
    generated always as (coalesce(provider_message_id like 'outbox:%', false)) stored;
alter table public.message_delivery_attempts
  add column via_outbox boolean
    generated always as (coalesce(provider_message_id like 'outbox:%', false)) stored;

comment on column public.scheduled_messages.via_outbox is
  'Written to the outbox folder instead of a provider (no credentials): nobody received it';
comment on column public.message_delivery_attempts.via_outbox is
  'This attempt wrote the message to the outbox folder instead of a provider';
