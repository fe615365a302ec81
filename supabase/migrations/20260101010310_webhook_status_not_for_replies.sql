-- message.status webhook events are about a clinic's messages, not the bot's chat turns (issue
-- 15, item 9): since bot replies became rows of scheduled_messages (migration 20260101009000),
-- every /help, menu and button answer raised an event to the clinic's endpoint, one or more per
-- turn, each one naming the patient. A reply is a row with conversation_id set (only the bot
-- writes one: core/sql/bot.sql store_replies); those raise no event. A reply stays visible in
-- the dashboard and GET /api/v1/messages like every message. docs/api.md lists the events.
-- Otherwise the function of 20260101009330, unchanged.
create or replace function public.webhook_message_status() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if not exists (
    select 1 from webhook_subscriptions
     where disabled_at is null and 'message.status' = any (event_types)
  ) then
    return null;
  end if;
  with changed as (
    select n.* , o.status as previous_status
      from new_rows n join old_rows o on o.id = n.id
     where n.status is distinct from o.status
       and n.status in ('sent', 'delivered', 'failed', 'expired', 'cancelled')
       -- Not a bot reply (a chat turn).
       and n.conversation_id is null
       and exists (
         select 1 from webhook_subscriptions s
          where s.organization_id = n.organization_id and s.disabled_at is null
            and 'message.status' = any (s.event_types))
  ), events as (
    insert into webhook_events (organization_id, event_type, payload)
    select c.organization_id, 'message.status', jsonb_build_object(
             'type', 'message.status',
             'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             'data', jsonb_build_object(
               'message_id', c.id, 'patient_id', c.patient_id,
               'appointment_id', c.appointment_id, 'dose_event_id', c.dose_event_id,
               'kind', c.kind, 'status', c.status, 'previous_status', c.previous_status,
               'channel', c.channel_used, 'attempts', c.attempts, 'sent_at', c.sent_at,
               'delivered_at', c.delivered_at, 'via_outbox', c.via_outbox,
               'resent_from', c.resent_from))
      from changed c
    returning id, organization_id
  )
  insert into webhook_deliveries (organization_id, event_id, subscription_id)
  select e.organization_id, e.id, s.id
    from events e join webhook_subscriptions s
      on s.organization_id = e.organization_id and s.disabled_at is null
     and 'message.status' = any (s.event_types);
  return null;
end
$$;
