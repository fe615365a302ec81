-- Provider status callbacks (Twilio) find their message through its attempt rows, not an index
-- on scheduled_messages.provider_message_id (issue 20).
--
-- Every send's record sets the wide row's provider_message_id, and the index on it made that
-- update non-HOT: a new entry in each of the row's indexes for every message sent. The send's
-- attempt row carries the same id (scheduler/delivery.py, bot/delivery.py and the web socket
-- delivery write both from one receipt); an index there is one narrow entry, and with it and the
-- queue of migration 20260101011000 no index of scheduled_messages names a column the record
-- changes (unless it reschedules a retry): the record is a HOT update where the page has room.

create index message_delivery_attempts_provider_idx on public.message_delivery_attempts
  (provider_message_id) where provider_message_id is not null;
drop index public.scheduled_messages_provider_idx;

create or replace function public.apply_delivery_status_events(p_provider_message_id text)
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
       -- Found through its attempt rows (which carry the id; migration 20260101011010): the
       -- wide row's provider index made every record of a send a non-HOT update.
       where id = any (array(
               select a.message_id from message_delivery_attempts a
                where a.provider_message_id = p_provider_message_id))
         and provider_message_id = p_provider_message_id
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
