-- The questions a conversation was asked and can still answer (issue 14: one answer router).
--
-- A reminder, a follow-up or an appointment message that offers answers is recorded here when the
-- dispatcher sends it, and so is a question the bot asks about a row (the SMS /appointments list):
-- which chat it went to, what it is about (a dose or an appointment) and the options it showed,
-- each with the typed replies the message showed for it (its number on a numbered channel, its
-- letter where the text asks for letters). An inbound answer goes to the latest open question of
-- the chat that accepts it (bot/routing.py); the dialog's own question lives in the conversation's
-- state. A question is open until it is answered, or its dose or appointment is no longer waiting.
--
-- Only the service processes (worker, web) read or write it; clinicians see nothing here.

create table public.conversation_questions (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references public.patients (id) on delete cascade,
  channel text not null check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  chat_address text not null check (length(chat_address) between 1 and 320),
  message_id uuid references public.scheduled_messages (id) on delete cascade,
  dose_event_id uuid references public.dose_events (id) on delete cascade,
  appointment_id uuid references public.appointments (id) on delete cascade,
  -- [{"label": "Taken", "data": "d:<hex>:t", "keys": ["1"]}, ...] in the order shown.
  options jsonb not null check (jsonb_typeof(options) = 'array' and jsonb_array_length(options) between 1 and 20),
  asked_at timestamptz not null,
  answered_at timestamptz,
  check (num_nonnulls(dose_event_id, appointment_id) = 1)
);
comment on table public.conversation_questions is
  'Questions sent to a chat (reminders, appointment questions) with the answers they showed.';

-- The router's lookup: a chat's open questions, newest first.
create index conversation_questions_open_idx
  on public.conversation_questions (channel, chat_address, asked_at desc)
  where answered_at is null;
create index conversation_questions_patient_idx on public.conversation_questions (patient_id);
create index conversation_questions_dose_idx on public.conversation_questions (dose_event_id)
  where dose_event_id is not null;
create index conversation_questions_appointment_idx
  on public.conversation_questions (appointment_id) where appointment_id is not null;

-- A question's dose or appointment is its patient's: no row points across patients (or clinics).
create function public.conversation_question_same_patient() returns trigger
language plpgsql set search_path = public as $$
begin
  if new.dose_event_id is not null and not exists (
       select 1 from dose_events d where d.id = new.dose_event_id and d.patient_id = new.patient_id)
     or new.appointment_id is not null and not exists (
       select 1 from appointments a where a.id = new.appointment_id and a.patient_id = new.patient_id)
  then
    raise exception 'a question''s dose or appointment must belong to its patient'
      using errcode = 'check_violation';
  end if;
  return new;
end
$$;
create trigger conversation_questions_same_patient
  before insert or update of patient_id, dose_event_id, appointment_id
  on public.conversation_questions
  for each row execute function public.conversation_question_same_patient();
revoke all on function public.conversation_question_same_patient() from public;

alter table public.conversation_questions enable row level security;
alter table public.conversation_questions force row level security;
grant select, insert, update, delete on public.conversation_questions to medremind_app;
create policy conversation_questions_service on public.conversation_questions
  for all to medremind_app using (true) with check (true);
grant all on public.conversation_questions to service_role;
-- Clinicians (authenticated) and anon get no grant and no policy: they see nothing.
