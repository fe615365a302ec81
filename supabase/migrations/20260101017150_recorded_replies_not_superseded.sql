-- A reply that says what was recorded is not superseded by a newer reply (session 25, H2).
--
-- Since 20260101016950 a newer reply to a chat expired every older one still waiting to be sent,
-- so that a stale question is never read late. A patient pressed Taken on the 8:00 reminder; its
-- "Taken at 8:00 AM: your Metformin dose" failed at Telegram and waited for a retry; a minute
-- later they pressed Taken on the Aspirin reminder, and that reply expired the first one unsent.
-- They never heard the Metformin dose was recorded (only its button, pressed again, said "already
-- recorded"). A confirmation of what was recorded stays true: such a reply (payload 'recorded',
-- bot/reply_rows.py RECORDED_KEY) is left to be sent, within its half hour like every reply.
-- Otherwise the function of 20260101016950, unchanged.

create or replace function public.scheduled_messages_supersede_replies() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  -- A day back covers every reply that can still be pending: none lives longer.
  update public.scheduled_messages
     set status = 'expired',
         last_error = 'superseded by a newer reply to the chat before it could be sent'
   where conversation_id = new.conversation_id
     and created_at >= now() - interval '1 day'
     and created_at <= new.created_at
     and status = 'pending'
     and kind = 'system'
     and not coalesce(payload ? 'recorded', false)
     and id <> new.id;
  return null;
end
$$;
revoke all on function public.scheduled_messages_supersede_replies() from public;
