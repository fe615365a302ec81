-- A Twilio status callback changes only the messages of the clinic whose account signed it.
--
-- A webhook naming a clinic's own number (a status callback's From) is verified with that
-- clinic's auth token (medremind/web/twilio_accounts.py), which the clinic holds. Its callbacks
-- were then applied by MessageSid alone, so a clinic could sign a callback for another clinic's
-- message (a SID read from a log, a screenshot, a support mail) and mark it delivered, or failed
-- (which moves it on to the patient's next channel). And as callbacks were kept unique by
-- (sid, status), its forged one taken first made the genuine one a duplicate, dropped.
--
-- Each callback now records who signed it (organization_id: the clinic whose token verified it;
-- null: the service's own TWILIO_AUTH_TOKEN, which only the operator holds and which signs the
-- callbacks of every message sent from the service's numbers, whichever clinic's). It is applied
-- only to messages of that clinic; the service's callbacks to any message, as before. One kept
-- per (sid, status, signer): a forged callback never stands in for the genuine one. A callback
-- that matches no message of its signer stays unapplied until retention removes it.
--
-- A bot reply to a chat with no patient (a stranger registering) sent from a clinic's own
-- number has no clinic: that clinic's callbacks leave it 'sent'.

alter table public.delivery_status_events
  add column organization_id uuid references public.organizations (id) on delete cascade;
comment on column public.delivery_status_events.organization_id is
  'The clinic whose Twilio auth token signed the callback; null: the service''s own token. Applied only to that clinic''s messages (any message for null).';
create index delivery_status_events_organization_idx on public.delivery_status_events
  (organization_id) where organization_id is not null;

alter table public.delivery_status_events
  drop constraint delivery_status_events_provider_message_id_status_key,
  add constraint delivery_status_events_signed_key
    unique nulls not distinct (provider_message_id, status, organization_id);

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
         -- A clinic's callback speaks for its own messages only (20260101015560).
         and (event.organization_id is null or organization_id = event.organization_id)
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
