-- A question row (conversation_questions) names its dose, appointment or slot offer together
-- with its patient in one foreign key each, instead of four keys and a check trigger (issue 20).
--
-- The dispatcher's record inserts the question each sent reminder asks. Each row paid two
-- foreign-key checks with a row lock each (its patient's and its dose's), a lookup of the dose's
-- patient by the statement's check trigger, and an index entry for its patient. A question has
-- exactly one subject (a dose, an appointment or an offer recipient, conversation_questions_one_
-- subject), and the subject's row names the patient; so one key (subject, patient) references
-- (id, patient_id) of the subject's table and says everything the four keys and the trigger said:
--   * the subject exists and is locked against deletion until the inserting transaction ends
--     (a foreign key's own check, so a concurrent delete is serialized as before);
--   * it is the question's own patient's, so no question points across patients or clinics,
--     now under concurrency too (the trigger read the subject without a lock);
--   * the patient exists: the subject's own key to patients(id) says so, and deleting the
--     patient deletes the subject, which deletes the question ("on delete cascade"), as erasure
--     (erase_patient: every table pointing at the patient) does;
--   * "on update cascade": merge_patient moves the subject's rows to the merged record, and
--     their questions' patient_id follows them (it moved them through the patient key before).
-- The message a question names is still checked once per statement (20260101010020).
--
-- Measured (bench/dispatch_sql.py's record, interleaved against the previous schema in one run):
-- see the commit message. Each subject table gets a unique index on (id, patient_id) for the
-- keys to reference: one more index entry per dose the planner writes.

create unique index dose_events_id_patient_key on public.dose_events (id, patient_id);
create unique index appointments_id_patient_key on public.appointments (id, patient_id);
create unique index slot_offer_recipients_id_patient_key
  on public.slot_offer_recipients (id, patient_id);

-- A row the old check let through (it read without locks) would fail the new keys: it points at
-- another patient's subject, so it cannot be answered rightly either.
delete from public.conversation_questions q
 where (q.dose_event_id is not null and not exists (
          select 1 from public.dose_events d
           where d.id = q.dose_event_id and d.patient_id = q.patient_id))
    or (q.appointment_id is not null and not exists (
          select 1 from public.appointments a
           where a.id = q.appointment_id and a.patient_id = q.patient_id))
    or (q.slot_offer_recipient_id is not null and not exists (
          select 1 from public.slot_offer_recipients r
           where r.id = q.slot_offer_recipient_id and r.patient_id = q.patient_id));

alter table public.conversation_questions
  drop constraint conversation_questions_patient_id_fkey,
  drop constraint conversation_questions_dose_event_id_fkey,
  drop constraint conversation_questions_appointment_id_fkey,
  drop constraint conversation_questions_slot_offer_recipient_id_fkey;

-- The keys' own indexes (a delete or a merge finds a subject's questions by them); the patient's
-- index goes: nothing finds questions by their patient alone any more (the router reads a chat's
-- open questions by conversation_questions_open_idx).
drop index public.conversation_questions_dose_idx;
drop index public.conversation_questions_appointment_idx;
drop index public.conversation_questions_offer_idx;
drop index public.conversation_questions_patient_idx;
create index conversation_questions_dose_idx
  on public.conversation_questions (dose_event_id, patient_id) where dose_event_id is not null;
create index conversation_questions_appointment_idx
  on public.conversation_questions (appointment_id, patient_id) where appointment_id is not null;
create index conversation_questions_offer_idx
  on public.conversation_questions (slot_offer_recipient_id, patient_id)
  where slot_offer_recipient_id is not null;

alter table public.conversation_questions
  add constraint conversation_questions_dose_of_its_patient
    foreign key (dose_event_id, patient_id) references public.dose_events (id, patient_id)
    on delete cascade on update cascade,
  add constraint conversation_questions_appointment_of_its_patient
    foreign key (appointment_id, patient_id) references public.appointments (id, patient_id)
    on delete cascade on update cascade,
  add constraint conversation_questions_offer_of_its_patient
    foreign key (slot_offer_recipient_id, patient_id)
    references public.slot_offer_recipients (id, patient_id)
    on delete cascade on update cascade;

-- The statement's check keeps what no key says: the message exists.
create or replace function public.conversation_questions_same_patient_rows() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare missing uuid;
begin
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

-- An update's subject and patient are checked by the keys too.
drop trigger conversation_questions_same_patient on public.conversation_questions;
drop function public.conversation_question_same_patient();
