-- The question a sent reminder asks names its message only: its patient, dose and appointment are
-- the message's (issue 20).
--
-- The dispatcher's record inserts the question of each sent reminder or appointment message (the
-- options shown, the chat it went to). Since 20260101013000 each paid a foreign-key check of
-- (dose_event_id, patient_id): a locked lookup of the dose, and an index entry for the dose. But
-- the record writes the question in the statement that updates its message, and the message
-- names the patient and the dose already: a question that says nothing but "this message asked
-- this, on this chat" cannot point at another patient's dose or another clinic, and needs no key
-- of its own to stay right:
--   * the message exists: checked per statement (20260101010020), and the record holds the
--     message's row lock from its own update until it commits;
--   * deleting the dose or the appointment deletes the message (its keys, on delete cascade),
--     which deletes its questions (scheduled_messages_delete_questions); a delete that started
--     first has deleted the message before the record's update finds it (no question), and one
--     that comes second waits for the message's row lock, then sees the committed question
--     (REPEATABLE READ: a serialization failure on the updated message, as for any update);
--   * merge_patient moves the message to the merged record and the question is read through it;
--     erase_patient and a patient's delete delete the messages and so the questions;
--   * the answer router reads the patient, the dose and the appointment through the message
--     (core/sql/bot.sql open_questions, which also ignores a dose or appointment that is not the
--     message's patient's), and an answered dose or appointment closes them through it
--     (close_questions, by the message's dose and appointment indexes).
-- A question the bot asks itself (the SMS /appointments list, a snooze's "Taken?") and a slot
-- offer's (the offer message has no dose of its own) keep their patient and one subject, with the
-- keys of 20260101013000. A row has either a patient and one subject, or a message and neither.
--
-- Measured (bench/dispatch_sql.py, batches interleaved with the previous schema and record in one
-- run): see the commit message.

alter table public.conversation_questions alter column patient_id drop not null;

alter table public.conversation_questions drop constraint conversation_questions_one_subject;
alter table public.conversation_questions add constraint conversation_questions_one_subject check (
  case when patient_id is null
       then message_id is not null
            and num_nonnulls(dose_event_id, appointment_id, slot_offer_recipient_id) = 0
       else num_nonnulls(dose_event_id, appointment_id, slot_offer_recipient_id) = 1 end);

comment on column public.conversation_questions.patient_id is
  'The patient of a question with a subject (dose, appointment, offer recipient); null for a sent '
  'message''s question, whose patient, dose and appointment are its message''s (20260101013100).';
