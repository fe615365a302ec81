-- A recorded question references its message without a foreign key constraint, checked per
-- statement instead, as delivery attempts already do (20260101006000).
--
-- Why: the dispatcher's record statement updates a batch of sent messages and inserts the
-- questions they asked (a dose reminder's Taken/Skip) in one statement. The foreign key's check
-- ran once per question and took a FOR KEY SHARE lock on the very message row the statement had
-- just updated: of the three checks a reminder's question made, the costliest (EXPLAIN ANALYZE of
-- recording 85 reminders: 10.4 ms of 33 ms, more than the patient's and the dose's together).
-- The integrity it gave is kept:
--   * an insert of questions naming a message that does not exist fails (foreign_key_violation),
--     for every writer, in the check that already runs once per insert statement (one PL/pgSQL
--     call for both), by primary-key lookups;
--   * moving a question to another message is checked row by row (nothing in the service does);
--   * deleting messages deletes their questions, as "on delete cascade" did.
-- What is given up: the row lock. The only writer of message_id is the dispatcher's record, which
-- holds the message's row lock from its own update in the same statement, so a concurrent delete
-- waits for it either way.

alter table public.conversation_questions
  drop constraint if exists conversation_questions_message_id_fkey;

-- Security definer, as the foreign key's checks ran as the owner: the checks must see every
-- dose, appointment, offer and message whatever the inserting role's policies hide.
create or replace function public.conversation_questions_same_patient_rows() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare missing uuid;
begin
  if exists (
    select 1 from new_rows q
     where q.dose_event_id is not null
           and (select d.patient_id from dose_events d where d.id = q.dose_event_id)
               is distinct from q.patient_id
        or q.appointment_id is not null
           and (select a.patient_id from appointments a where a.id = q.appointment_id)
               is distinct from q.patient_id
        or q.slot_offer_recipient_id is not null
           and (select r.patient_id from slot_offer_recipients r
                 where r.id = q.slot_offer_recipient_id)
               is distinct from q.patient_id
  ) then
    raise exception 'a question''s dose, appointment or offer must belong to its patient'
      using errcode = 'check_violation';
  end if;
  -- A scalar subquery per row: a primary-key lookup, never a hash of the whole table.
  select q.message_id into missing
    from new_rows q
   where q.message_id is not null
     and (select true from scheduled_messages m where m.id = q.message_id) is null
   limit 1;
  if missing is not null then
    raise exception 'conversation_questions.message_id % is not a scheduled message', missing
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end
$$;
revoke all on function public.conversation_questions_same_patient_rows() from public;

create function public.conversation_question_message_exists() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if not exists (select 1 from scheduled_messages m where m.id = new.message_id) then
    raise exception 'conversation_questions.message_id % is not a scheduled message',
      new.message_id using errcode = 'foreign_key_violation';
  end if;
  return new;
end
$$;
revoke all on function public.conversation_question_message_exists() from public;

create trigger conversation_questions_message_exists
  before update of message_id on public.conversation_questions
  for each row when (new.message_id is not null and new.message_id is distinct from old.message_id)
  execute function public.conversation_question_message_exists();

-- Runs as the owner, like the cascade it replaces. "= any(array(...))": the message index's
-- lookups, whatever the planner guesses of the transition table's size.
create function public.delete_message_questions() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  delete from conversation_questions q where q.message_id = any (array(select o.id from old_rows o));
  return null;
end
$$;
revoke all on function public.delete_message_questions() from public;

create trigger scheduled_messages_delete_questions
  after delete on public.scheduled_messages referencing old table as old_rows
  for each statement execute function public.delete_message_questions();
