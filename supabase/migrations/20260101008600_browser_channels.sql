-- The browser channels (issue 18): `webpush` (a Web Push subscription per device, RFC 8291
-- payloads, VAPID) and `websocket` (live delivery to an open patient app).
--
-- A patient reaches both through one contact point per channel whose address is an opaque id of
-- their web app (never a phone number or e-mail), so routing, fallback and merges treat them like
-- every other channel: merge_patient moves contact points, and the subscriptions hang off theirs.
-- The devices of a `webpush` contact point are its rows in push_subscriptions; a push service that
-- answers 404/410 for one retires that row, and when none is left the send is a permanent error
-- (the dispatcher then deactivates the contact point and tries the patient's next channel).

alter table contact_points drop constraint contact_points_channel_check;
alter table contact_points add constraint contact_points_channel_check check (
  channel in ('telegram', 'whatsapp', 'sms', 'email', 'console', 'webpush', 'websocket'));

alter table patients drop constraint patients_channel_order_check;
alter table patients add constraint patients_channel_order_check check (
  channel_order <@ array['telegram', 'whatsapp', 'sms', 'email', 'console', 'webpush',
                         'websocket']::text[]);

alter table scheduled_messages drop constraint scheduled_messages_platform_check;
alter table scheduled_messages add constraint scheduled_messages_platform_check check (
  platform in ('telegram', 'whatsapp', 'sms', 'email', 'console', 'webpush', 'websocket', 'auto'));

alter table message_delivery_attempts drop constraint message_delivery_attempts_channel_check;
alter table message_delivery_attempts add constraint message_delivery_attempts_channel_check check (
  channel in ('telegram', 'whatsapp', 'sms', 'email', 'console', 'webpush', 'websocket'));

create table push_subscriptions (
  id uuid primary key default gen_random_uuid(),
  contact_point_id uuid not null references contact_points (id) on delete cascade,
  -- The push service's URL for this device (the browser's PushSubscription.endpoint).
  endpoint text not null unique
    check (endpoint ~ '^https?://' and length(endpoint) <= 2048),
  -- The browser's P-256 public key and auth secret, base64url (RFC 8291).
  p256dh text not null check (length(p256dh) between 80 and 100),
  auth text not null check (length(auth) between 16 and 30),
  -- A short label for the patient's list of devices ("Chrome on Android"), never the full agent.
  device_label text check (device_label is null or length(device_label) <= 100),
  created_at timestamptz not null default now(),
  last_success_at timestamptz,
  retired_at timestamptz,
  retire_reason text check (retire_reason is null or length(retire_reason) <= 200)
);
create index push_subscriptions_contact_idx on push_subscriptions (contact_point_id)
  where retired_at is null;

alter table push_subscriptions enable row level security;
alter table push_subscriptions force row level security;
grant select, insert, update, delete on push_subscriptions to medremind_app;
create policy push_subscriptions_service on push_subscriptions for all to medremind_app
  using (true) with check (true);
grant all on push_subscriptions to service_role;
-- Clinicians see their clinic's devices (through the contact point's own policy) and may revoke
-- one; they never create or edit a subscription (only the patient's browser can).
grant select, delete on push_subscriptions to authenticated;
create policy push_subscriptions_clinician on push_subscriptions for select to authenticated
  using (exists (select 1 from contact_points c where c.id = contact_point_id));
create policy push_subscriptions_clinician_delete on push_subscriptions for delete
  to authenticated
  using (exists (select 1 from contact_points c where c.id = contact_point_id));
