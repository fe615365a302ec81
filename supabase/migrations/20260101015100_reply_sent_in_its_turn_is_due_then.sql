-- A bot reply sent in its turn is scheduled when it went out, not at its expiry.
--
-- The replies of one turn after the first are written due at their expiry (24 hours ahead) and
-- released by the one before them when it is done (migration 20260101009000). The web process
-- sends a turn's replies itself and records them in one statement: when the release trigger of
-- the first fires (after the statement's row updates), the next one is already sent and is left
-- as it was, scheduled a day after it went out. The dashboard and the API showed such a reply
-- (the second part of an SMS split over the segment cap, the second reply of a /settings turn)
-- as "sent" tomorrow, listed above the next day's pending reminders.
--
-- A reply that leaves pending or processing while still held takes now() as its scheduled time,
-- as its release would have given it. The WHEN clause reads columns only: for the dispatcher's
-- records of reminders (no conversation) the function is never called.
create or replace function public.scheduled_messages_reply_done_while_held() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  new.scheduled_time := now();
  return new;
end
$$;
revoke all on function public.scheduled_messages_reply_done_while_held() from public;

create trigger scheduled_messages_reply_done_while_held
  before update of status on scheduled_messages
  for each row
  when (new.conversation_id is not null
        and old.status in ('pending', 'processing')
        and new.status in ('sent', 'delivered', 'failed')
        and new.scheduled_time > now())
  execute function public.scheduled_messages_reply_done_while_held();
