-- A bot reply that is no longer current is not sent late (session 24, H4).
--
-- Before: a reply the provider did not take at once (a 5xx, a timeout, a long rate limit) was
-- retried by the dispatcher for up to a day, so a patient could read, hours later, a question
-- the dialog had long left behind ("Do you agree?" after registration had finished). Now a
-- reply lives half an hour (bot/reply_rows.py REPLY_LIFETIME_SECONDS), and a newer reply to the
-- same chat supersedes every older one still waiting to be sent: the newer one answers what the
-- person wrote last, from the dialog as it is now. The older rows end 'expired', saying why, as
-- a message past its expiry does (docs/delivery.md): recorded, never silently dropped.
--
-- Only 'pending' rows: one being sent ('processing', leased to a worker or to the web process of
-- another turn) cannot be called back. The new turn's own rows are 'processing' as they are
-- inserted, so a turn never supersedes its own replies. The first reply of a turn supersedes
-- the held rows of an older turn too (each held one is 'pending' until released).

-- The chat's recent replies by a key range, however long its history (replies are kept for the
-- retention period): the supersession below reads the last day of one chat only. The same index
-- still serves every lookup by conversation_id alone (erasure, the cascade from conversations).
create index scheduled_messages_conversation_time_idx
  on public.scheduled_messages (conversation_id, created_at)
  where conversation_id is not null;
drop index public.scheduled_messages_conversation_idx;

create or replace function public.scheduled_messages_supersede_replies() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  -- A day back covers every reply that can still be pending: none lives longer (24 hours
  -- before this migration, half an hour since).
  update public.scheduled_messages
     set status = 'expired',
         last_error = 'superseded by a newer reply to the chat before it could be sent'
   where conversation_id = new.conversation_id
     and created_at >= now() - interval '1 day'
     and created_at <= new.created_at
     and status = 'pending'
     and kind = 'system'
     and id <> new.id;
  return null;
end
$$;
revoke all on function public.scheduled_messages_supersede_replies() from public;

-- Rows without a chat (reminders, clinic messages: nearly every insert) do not fire it.
create trigger scheduled_messages_supersede_replies
  after insert on public.scheduled_messages
  for each row
  when (new.conversation_id is not null and new.kind = 'system')
  execute function public.scheduled_messages_supersede_replies();
