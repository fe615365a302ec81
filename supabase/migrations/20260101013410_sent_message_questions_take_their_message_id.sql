-- A sent message's question takes its message's id as its own: the primary key finds it, and its
-- index by message goes (issue 20).
--
-- The dispatcher's record inserts the question a sent reminder, appointment message or slot
-- offer asked (the options shown, the chat it went to), and only the record writes a question's
-- message_id (20260101010020). Each question paid an entry in its primary key (a random id) and
-- one in conversation_questions_message_idx, which served the readers by message: the delete of a
-- message's questions (delete_message_questions) and close_questions (core/sql/bot.sql). With the
-- message's id as the question's, the primary key serves them both.
--
-- A message asks one question: the one on the chat it last went to. It can be recorded sent
-- twice: an "undelivered" status callback sends it again on the patient's next channel
-- (scheduled_messages_fallback_after_undelivered), a clinician retries a failed one. The record
-- then replaces the question (on conflict: that chat, those options, asked then, open again):
-- the earlier chat never got the message, so nobody there answers it. Before, each send added a
-- question and the earlier one stayed open on the chat that did not receive it.
--
-- Existing rows: a message's newest question is kept and takes the message's id; its older ones
-- (earlier chats of a fallback) are deleted.
-- Measured: see the commit message.

delete from public.conversation_questions q
 where q.message_id is not null
   and exists (select 1 from public.conversation_questions n
                where n.message_id = q.message_id and (n.asked_at, n.seq) > (q.asked_at, q.seq));

update public.conversation_questions set id = message_id
 where message_id is not null and id <> message_id;

alter table public.conversation_questions
  add constraint conversation_questions_id_is_its_message
  check (message_id is null or id = message_id);

drop index if exists public.conversation_questions_message_idx;

create or replace function public.delete_message_questions() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  -- A message's question has the message's id (20260101013410): primary-key lookups.
  delete from conversation_questions q
   where q.id = any (array(select o.id from old_rows o)) and q.message_id is not null;
  return null;
end
$$;

comment on column public.conversation_questions.message_id is
  'The sent message that asked this question; the question''s id is then the message''s '
  '(20260101013410): one question a message, on the chat it last went to.';
