-- Outgoing webhooks to a clinic's own systems (Standard Webhooks: webhook-id, webhook-timestamp,
-- webhook-signature). A clinic subscribes a URL to event types; events are written here by
-- triggers in the same transaction as the change they report (a message's status, a patient's
-- dose answer or appointment reply, an opt-out or opt-in), one delivery row per subscription; the
-- worker (scheduler/webhook_sender.py) claims due deliveries, signs and posts them, and retries
-- failures with backoff. Nothing is written when the clinic has no subscription for the type.

create table webhook_subscriptions (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  url text not null check (url ~ '^https?://[^\s]+$' and length(url) <= 2000),
  description text check (length(description) <= 200),
  event_types text[] not null check (
    cardinality(event_types) >= 1 and event_types <@ array[
      'message.status', 'dose.answered', 'appointment.replied', 'contact.opted_out',
      'contact.opted_in']::text[]),
  -- The signing key ("whsec_" + base64), shown to the clinic once. Only the service role reads it.
  secret text not null,
  created_at timestamptz not null default now(),
  disabled_at timestamptz
);
create index webhook_subscriptions_org_idx on webhook_subscriptions (organization_id)
  where disabled_at is null;

create table webhook_events (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  event_type text not null,
  payload jsonb not null,
  created_at timestamptz not null default now()
);
create index webhook_events_org_idx on webhook_events (organization_id, created_at);

create table webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  event_id uuid not null references webhook_events (id) on delete cascade,
  subscription_id uuid not null references webhook_subscriptions (id) on delete cascade,
  status text not null default 'pending'
    check (status in ('pending', 'delivering', 'delivered', 'failed', 'cancelled')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  last_status_code integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- The sender's claim: due pending rows, and rows whose sender died mid-delivery.
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at)
  where status = 'pending';
create index webhook_deliveries_lease_idx on webhook_deliveries (locked_until)
  where status = 'delivering';
create index webhook_deliveries_subscription_idx on webhook_deliveries (subscription_id, created_at);

create table webhook_delivery_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
  attempted_at timestamptz not null default now(),
  status_code integer,
  error text,
  duration_ms integer
);
create index webhook_delivery_attempts_delivery_idx on webhook_delivery_attempts (delivery_id);

-- RLS: the service role does everything; a clinician sees their clinic's subscriptions (never the
-- secret: column grants), events and deliveries.
do $$
declare t text;
begin
  foreach t in array array['webhook_subscriptions', 'webhook_events', 'webhook_deliveries',
    'webhook_delivery_attempts'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    execute format('grant select, insert, update, delete on public.%I to medremind_app', t);
    execute format(
      'create policy %I on public.%I for all to medremind_app using (true) with check (true)',
      t || '_service', t);
    execute format('grant all on public.%I to service_role', t);
  end loop;
end
$$;
grant select (id, organization_id, url, description, event_types, created_at, disabled_at)
  on webhook_subscriptions to authenticated;
create policy webhook_subscriptions_clinician on webhook_subscriptions for select to authenticated
  using (organization_id = public.current_organization_id());
grant select on webhook_events, webhook_deliveries to authenticated;
create policy webhook_events_clinician on webhook_events for select to authenticated
  using (organization_id = public.current_organization_id());
create policy webhook_deliveries_clinician on webhook_deliveries for select to authenticated
  using (organization_id = public.current_organization_id());
grant select on webhook_delivery_attempts to authenticated;
create policy webhook_delivery_attempts_clinician on webhook_delivery_attempts for select
  to authenticated
  using (exists (select 1 from webhook_deliveries d where d.id = delivery_id));

-- One event and a delivery per subscribed endpoint. SECURITY DEFINER: the writers (the worker,
-- the web process, a clinician's dashboard transaction under RLS) need not see subscriptions.
create function public.emit_webhook_event(p_org uuid, p_type text, p_data jsonb)
returns void language plpgsql security definer set search_path = public, pg_temp as $$
declare event_id uuid;
begin
  if p_org is null or not exists (
    select 1 from webhook_subscriptions
     where organization_id = p_org and disabled_at is null and p_type = any (event_types)
  ) then
    return;
  end if;
  insert into webhook_events (organization_id, event_type, payload)
  values (p_org, p_type, jsonb_build_object(
    'type', p_type,
    'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'data', p_data))
  returning id into event_id;
  insert into webhook_deliveries (organization_id, event_id, subscription_id)
  select p_org, event_id, s.id from webhook_subscriptions s
   where s.organization_id = p_org and s.disabled_at is null and p_type = any (s.event_types);
end
$$;
revoke all on function public.emit_webhook_event(uuid, text, jsonb) from public;

-- A message's status change (sent, delivered, failed, expired, cancelled). One statement-level
-- trigger: the dispatcher records thousands of rows per statement, and with no subscription the
-- cost is one index probe per statement.
create function public.webhook_message_status() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare r record;
begin
  if not exists (
    select 1 from webhook_subscriptions
     where disabled_at is null and 'message.status' = any (event_types)
  ) then
    return null;
  end if;
  for r in
    select n.organization_id, n.id, n.patient_id, n.appointment_id, n.dose_event_id, n.kind,
           n.status, o.status as previous_status, n.channel_used, n.attempts, n.sent_at,
           n.delivered_at, n.provider_message_id
      from new_rows n join old_rows o on o.id = n.id
     where n.status is distinct from o.status
       and n.status in ('sent', 'delivered', 'failed', 'expired', 'cancelled')
  loop
    perform public.emit_webhook_event(r.organization_id, 'message.status', jsonb_build_object(
      'message_id', r.id, 'patient_id', r.patient_id, 'appointment_id', r.appointment_id,
      'dose_event_id', r.dose_event_id, 'kind', r.kind, 'status', r.status,
      'previous_status', r.previous_status, 'channel', r.channel_used, 'attempts', r.attempts,
      'sent_at', r.sent_at, 'delivered_at', r.delivered_at));
  end loop;
  return null;
end
$$;
create trigger scheduled_messages_webhooks after update on scheduled_messages
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.webhook_message_status();

-- A patient's answer to a dose reminder (taken, skipped, snoozed).
create function public.webhook_dose_answered() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.emit_webhook_event(
    (select organization_id from patients where id = new.patient_id), 'dose.answered',
    jsonb_build_object(
      'dose_event_id', new.id, 'patient_id', new.patient_id, 'medication_id', new.medication_id,
      'status', new.status, 'due_at', new.due_at, 'answered_at', new.answered_at,
      'channel', new.answered_channel));
  return null;
end
$$;
create trigger dose_events_webhooks after update of answered_at, status on dose_events
  for each row
  when (new.answered_at is not null
        and (old.answered_at is distinct from new.answered_at or old.status <> new.status)
        and new.status in ('taken', 'skipped', 'snoozed'))
  execute function public.webhook_dose_answered();

-- A patient's reply to an appointment (confirm, reschedule, cancel): audited by every path that
-- records one (scheduler.appointments.record_appointment_reply, the bot's fallback).
create function public.webhook_appointment_replied() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.emit_webhook_event(new.organization_id, 'appointment.replied', jsonb_build_object(
    'appointment_id', new.entity_id::uuid,
    'patient_id', (select patient_id from appointments where id = new.entity_id::uuid),
    'reply', substr(new.action, length('appointment.') + 1),
    'replied_at', new.at));
  return null;
end
$$;
create trigger audit_log_webhooks after insert on audit_log
  for each row
  when (new.actor = 'patient' and new.entity = 'appointment'
        and new.action in ('appointment.confirm', 'appointment.reschedule', 'appointment.cancel'))
  execute function public.webhook_appointment_replied();

-- A contact point opted out (STOP, /stop, a carrier's 21610) or back in (START).
create function public.webhook_opt_out() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.emit_webhook_event(
    (select organization_id from patients where id = new.patient_id),
    case when new.opted_out_at is null then 'contact.opted_in' else 'contact.opted_out' end,
    jsonb_build_object('patient_id', new.patient_id, 'channel', new.channel,
                       'at', coalesce(new.opted_out_at, now())));
  return null;
end
$$;
create trigger contact_points_webhooks after update of opted_out_at on contact_points
  for each row
  when ((old.opted_out_at is null) <> (new.opted_out_at is null))
  execute function public.webhook_opt_out();
