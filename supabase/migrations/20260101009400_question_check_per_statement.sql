-- A recorded question's dose, appointment or offer must be its patient's (20260101009100):
-- checked once per INSERT statement over all its rows instead of by a row trigger per question.
--
-- The dispatcher records a whole batch of sends, with their questions, in one statement. The row
-- trigger cost ~170 us of server CPU per question (a PL/pgSQL call with its own search_path per
-- row: 82 ms of a 217 ms record of 500 reminders under EXPLAIN ANALYZE), three quarters of a
-- reminder's whole record. One set-based query per statement does the same check. Updates of the
-- four columns (rare: nothing in the service moves a question) keep the row trigger.

create function public.conversation_questions_same_patient_rows() returns trigger
language plpgsql set search_path = public as $$
begin
  if exists (
    select 1 from new_rows q
     where q.dose_event_id is not null and not exists (
             select 1 from dose_events d where d.id = q.dose_event_id and d.patient_id = q.patient_id)
        or q.appointment_id is not null and not exists (
             select 1 from appointments a
              where a.id = q.appointment_id and a.patient_id = q.patient_id)
        or q.slot_offer_recipient_id is not null and not exists (
             select 1 from slot_offer_recipients r
              where r.id = q.slot_offer_recipient_id and r.patient_id = q.patient_id)
  ) then
    raise exception 'a question''s dose, appointment or offer must belong to its patient'
      using errcode = 'check_violation';
  end if;
  return null;
end
$$;
revoke all on function public.conversation_questions_same_patient_rows() from public;

drop trigger conversation_questions_same_patient on public.conversation_questions;
create trigger conversation_questions_same_patient
  before update of patient_id, dose_event_id, appointment_id, slot_offer_recipient_id
  on public.conversation_questions
  for each row execute function public.conversation_question_same_patient();
create trigger conversation_questions_same_patient_insert
  after insert on public.conversation_questions referencing new table as new_rows
  for each statement execute function public.conversation_questions_same_patient_rows();
