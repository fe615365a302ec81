-- Provider status callbacks are applied whatever the order: a callback that arrives before the
-- worker has recorded the send (Twilio can call back within milliseconds, before the dispatcher's
-- bulk record commits) is stored and applied when the send is recorded, never lost.
--
-- One function applies a provider message's stored, unapplied callbacks to the messages that
-- carry its id; the web process calls it after storing a callback, and a trigger calls it when
-- the dispatcher records a provider message id. Statuses only move forward (sent < delivered;
-- delivered, undelivered and failed are final), so the result does not depend on the order.

alter table public.delivery_status_events
  add column provider_status text,
  add column channel text,
  add column error_message text,
  add column error_class text check (error_class in ('transient', 'permanent', 'config')),
  add column applied_at timestamptz;
comment on column public.delivery_status_events.applied_at is
  'When the callback was applied to its message; null while no recorded send carries its id.';

-- Callbacks stored before this migration were applied then, or never will be (their message is
-- gone or was never recorded): none of them is left waiting.
update public.delivery_status_events set applied_at = received_at;

create index delivery_status_events_unapplied_idx on public.delivery_status_events
  (provider_message_id) where applied_at is null;

create function public.apply_delivery_status_events(p_provider_message_id text)
returns integer
language plpgsql
set search_path = public, pg_temp
as $$
declare
  event record;
  message record;
  rank_of constant jsonb := '{"sent": 1, "delivered": 2, "undelivered": 3, "failed": 3}';
  next_status text;
  matched boolean;
  applied integer := 0;
begin
  -- The web process storing a callback and the worker recording the send take this lock in
  -- turn, so the second sees what the first committed: neither can miss the other.
  perform pg_advisory_xact_lock(
    hashtextextended('delivery_status_events:' || p_provider_message_id, 0));
  for event in
    select * from delivery_status_events
     where provider_message_id = p_provider_message_id and applied_at is null
     order by received_at, id
       for update
  loop
    matched := false;
    for message in
      select id, status, channel_used from scheduled_messages
       where provider_message_id = p_provider_message_id
         -- Only a recorded send; before that the dispatcher's lease-guarded write decides.
         and status in ('sent', 'delivered', 'failed')
         for update
    loop
      matched := true;
      -- Never backwards: delivered and failed are final, a late 'sent' changes nothing.
      if message.status = 'sent'
         and (rank_of ->> event.status)::int >= (rank_of ->> message.status)::int then
        -- scheduled_messages has no 'undelivered': for the message it is a failure.
        next_status := case when event.status = 'undelivered' then 'failed' else event.status end;
        if next_status <> message.status then
          update scheduled_messages
             set status = next_status,
                 delivered_at = case when next_status = 'delivered'
                                     then coalesce(delivered_at, event.received_at)
                                     else delivered_at end,
                 last_error = case when next_status = 'failed'
                                   then coalesce(event.error_message,
                                                 'provider reported '
                                                 || coalesce(event.provider_status, event.status))
                                   else last_error end
           where id = message.id;
        end if;
      end if;
      if event.status in ('delivered', 'undelivered', 'failed') then
        insert into message_delivery_attempts
          (message_id, attempt_time, status, error_message, response_data, channel, error_class,
           provider_message_id)
        values
          (message.id, event.received_at,
           case when event.status = 'delivered' then 'delivered' else 'undelivered' end,
           event.error_message,
           jsonb_build_object('provider_status', event.provider_status,
                              'error_code', event.error_code),
           coalesce(message.channel_used, event.channel), event.error_class,
           p_provider_message_id);
      end if;
    end loop;
    if matched then
      update delivery_status_events set applied_at = now() where id = event.id;
      applied := applied + 1;
    end if;
  end loop;
  return applied;
end
$$;
revoke all on function public.apply_delivery_status_events(text) from public;
grant execute on function public.apply_delivery_status_events(text) to medremind_app, service_role;

create function public.scheduled_messages_apply_early_status()
returns trigger
language plpgsql
set search_path = public, pg_temp
as $$
begin
  perform public.apply_delivery_status_events(new.provider_message_id);
  return null;
end
$$;
revoke all on function public.scheduled_messages_apply_early_status() from public;

-- Only channels whose provider calls back (Twilio's SMS and WhatsApp): a Telegram or e-mail send
-- costs nothing here. One advisory lock per such row recorded, held to the record's commit.
create trigger scheduled_messages_apply_early_status
  after update of provider_message_id on public.scheduled_messages
  for each row
  when (new.provider_message_id is not null
        and old.provider_message_id is distinct from new.provider_message_id
        and new.channel_used in ('sms', 'whatsapp'))
  execute function public.scheduled_messages_apply_early_status();
