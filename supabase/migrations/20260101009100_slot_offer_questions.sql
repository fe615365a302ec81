-- A waitlist slot offer is a question the answer router knows (issue 17: a typed SMS "1" to an
-- offer was not understood). The offer message shows "1 Accept / 2 No thanks" like a reminder;
-- the dispatcher now records it in conversation_questions with the offered recipient row, so a
-- numbered or worded answer on SMS/WhatsApp reaches the offer shown last on that chat, as a
-- Telegram button always did. Exactly one of dose, appointment or offer per question.

alter table public.conversation_questions
  add column slot_offer_recipient_id uuid
    references public.slot_offer_recipients (id) on delete cascade;

alter table public.conversation_questions
  drop constraint conversation_questions_check;
alter table public.conversation_questions
  add constraint conversation_questions_one_subject
    check (num_nonnulls(dose_event_id, appointment_id, slot_offer_recipient_id) = 1);

create index conversation_questions_offer_idx
  on public.conversation_questions (slot_offer_recipient_id)
  where slot_offer_recipient_id is not null;

-- A question's dose, appointment or offer is its patient's: no row points across patients.
create or replace function public.conversation_question_same_patient() returns trigger
language plpgsql set search_path = public as $$
begin
  if new.dose_event_id is not null and not exists (
       select 1 from dose_events d where d.id = new.dose_event_id and d.patient_id = new.patient_id)
     or new.appointment_id is not null and not exists (
       select 1 from appointments a where a.id = new.appointment_id and a.patient_id = new.patient_id)
     or new.slot_offer_recipient_id is not null and not exists (
       select 1 from slot_offer_recipients r
        where r.id = new.slot_offer_recipient_id and r.patient_id = new.patient_id)
  then
    raise exception 'a question''s dose, appointment or offer must belong to its patient'
      using errcode = 'check_violation';
  end if;
  return new;
end
$$;
drop trigger conversation_questions_same_patient on public.conversation_questions;
create trigger conversation_questions_same_patient
  before insert or update of patient_id, dose_event_id, appointment_id, slot_offer_recipient_id
  on public.conversation_questions
  for each row execute function public.conversation_question_same_patient();
