-- The per-statement check that a recorded question's dose, appointment or offer is its patient's
-- (20260101009400) looks each one up by primary key instead of hashing whole tables.
--
-- Written with NOT EXISTS inside OR, the planner could not turn the subqueries into anti-joins and
-- ran them as hashed subplans: every INSERT of questions read all of dose_events (and, with an
-- appointment question, all of appointments) into a hash table. The dispatcher records each batch
-- of sends in one statement, so a batch of 100 reminders paid for a scan of every dose event of
-- every patient: 9 ms per statement with 20,000 dose events (EXPLAIN ANALYZE), growing with the
-- table; bench/dispatch.py's burst config spent 127 us per message in this function. A correlated
-- scalar subquery is never hashed: it is one index lookup per question.

create or replace function public.conversation_questions_same_patient_rows() returns trigger
language plpgsql set search_path = public as $$
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
  return null;
end
$$;
revoke all on function public.conversation_questions_same_patient_rows() from public;
