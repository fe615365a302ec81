-- A patient's Taken or Skip pressed on a reminder, answered in one round trip.
--
-- Why: that press is most of the web process's traffic (every reminder gets one), and the bot's
-- general turn spends five round trips on it (BEGIN, lock the update and its conversation,
-- record the answer, save the turn, COMMIT): about a third of the web process's CPU per press
-- went to those round trips in asyncpg, and as much again on Postgres's side of them.
--
-- record_final_dose_answer: the one statement that records a final answer. Both the bot's general
-- turn (core/sql/dose_answers.sql record_final_answer) and answer_dose_button call it, so the
-- rules live in one place.
--
-- answer_dose_button: the whole turn of such a press, for the common case only. It locks the
-- update and its conversation as the general turn does (update first), then checks what the
-- general turn's engine would decide on its own: the update is still 'received', the chat
-- belongs to a live patient, the conversation needs no change (no opt-out, locale in step with
-- the patient's), the contact point is not opted out. When all hold it records the answer, marks
-- the update processed and notes the inbound time on the contact point, and returns
-- 'answered'; otherwise it changes nothing and returns 'general' (or 'done' for an update
-- already processed), and the caller runs the general turn. The conversation row is not
-- rewritten: nothing in it changes on this path, and the patient (whose freshness the general
-- turn checks by the conversation's xmin) is not written either.

create function public.record_final_dose_answer(
  p_dose uuid, p_answer text, p_at timestamptz, p_channel text, p_reason text, p_patient uuid
) returns table (
  status text, medication_id uuid, snoozed_until timestamptz, medication_name text,
  pill_count integer, changed boolean
)
language plpgsql as $$
#variable_conflict use_column
-- Lock the dose; unless a final answer stands, record this one (p_answer taken or skipped, at
-- p_at, over p_channel), cancel what is still pending for the dose (last_error p_reason; rows a
-- worker has claimed are left to its lease) and, for taken, count whole pills down (a fractional
-- dose rounds up, never below zero, only when a count is kept). Returns the dose as it was
-- before, the pill count after, the medication's name, and whether anything changed; no row for
-- an unknown dose, or for another patient's when p_patient names the patient (null: any).
begin
  if p_answer is null or p_answer not in ('taken', 'skipped') then
    raise exception 'record_final_dose_answer: answer % is not taken or skipped', p_answer
      using errcode = 'invalid_parameter_value';
  end if;
  return query
  with dose as (
    select d.id, d.status, d.medication_id, d.snoozed_until, m.pill_count, m.name
      from public.dose_events d
      join public.medications m on m.id = d.medication_id
     where d.id = p_dose and (p_patient is null or d.patient_id = p_patient)
       for update of d
  ), answered as (
    update public.dose_events e
       set status = p_answer, answered_at = p_at, answered_channel = p_channel
      from dose
     where e.id = dose.id and dose.status not in ('taken', 'skipped')
    returning e.id
  ), cancelled as (
    update public.scheduled_messages s
       set status = 'cancelled', last_error = p_reason
      from answered
     where s.dose_event_id = answered.id and s.status = 'pending'
  ), pills as (
    update public.medications m
       set pill_count = greatest(0, m.pill_count - ceil(m.pills_per_dose)::integer)
      from dose, answered
     where m.id = dose.medication_id and p_answer = 'taken' and m.pill_count is not null
    returning m.pill_count
  )
  select dose.status, dose.medication_id, dose.snoozed_until, dose.name,
         coalesce((select pills.pill_count from pills), dose.pill_count),
         exists (select from answered)
    from dose;
end
$$;

create function public.answer_dose_button(
  p_inbound uuid, p_dose uuid, p_answer text, p_at timestamptz, p_locales text[]
) returns table (
  outcome text, channel text, chat_address text, locale text, timezone text,
  dose_found boolean, dose_status text, medication_name text, changed boolean
)
language plpgsql as $$
#variable_conflict use_column
declare
  turn record;
  patient record;
  answer record;
begin
  select i.status, c.channel, c.chat_address, c.patient_id, c.state, c.locale
    into turn
    from public.inbound_messages i
    join public.conversations c on c.channel = i.channel and c.chat_address = i.chat_address
   where i.id = p_inbound
     for update of i, c;
  if not found then
    -- Unknown update, or a chat without a conversation yet: the general turn creates it.
    return query select 'general', null::text, null::text, null::text, null::text,
                        false, null::text, null::text, false;
    return;
  end if;
  if turn.status <> 'received' then
    return query select 'done', turn.channel, turn.chat_address, turn.locale, null::text,
                        false, null::text, null::text, false;
    return;
  end if;
  -- Read after the locks were granted (a statement's snapshot in READ COMMITTED), so a turn of
  -- this chat that committed while this one waited is seen.
  select p.locale, p.timezone into patient
    from public.patients p
   where p.id = turn.patient_id and p.status <> 'deleted';
  if not found
     or turn.state ? 'opted_out'
     or (patient.locale <> turn.locale and patient.locale = any (p_locales))
     or (turn.channel in ('sms', 'whatsapp') and exists (
           select from public.contact_points cp
            where cp.channel = turn.channel and cp.address = turn.chat_address
              and cp.opted_out_at is not null))
  then
    return query select 'general', turn.channel, turn.chat_address, turn.locale, null::text,
                        false, null::text, null::text, false;
    return;
  end if;
  select * into answer
    from public.record_final_dose_answer(
      p_dose, p_answer, p_at, turn.channel, 'dose ' || p_answer, turn.patient_id);
  update public.inbound_messages
     set status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = null
   where id = p_inbound;
  update public.contact_points
     set last_inbound_at = now()
   where channel = turn.channel and address = turn.chat_address;
  return query select 'answered', turn.channel, turn.chat_address, turn.locale, patient.timezone,
                      answer.status is not null, answer.status, answer.medication_name,
                      coalesce(answer.changed, false);
end
$$;

-- Only the service's processes call these (on Supabase, a function EXECUTE-able by PUBLIC would be
-- callable through PostgREST's /rpc by anon and clinicians alike).
revoke all on function public.record_final_dose_answer(uuid, text, timestamptz, text, text, uuid)
  from public;
revoke all on function public.answer_dose_button(uuid, uuid, text, timestamptz, text[]) from public;
grant execute on function public.record_final_dose_answer(uuid, text, timestamptz, text, text, uuid)
  to medremind_app, service_role;
grant execute on function public.answer_dose_button(uuid, uuid, text, timestamptz, text[])
  to medremind_app, service_role;
