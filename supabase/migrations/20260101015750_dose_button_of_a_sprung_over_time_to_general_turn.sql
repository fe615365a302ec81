-- A Taken or Skip pressed on a reminder of a dose whose set time is not its time where the
-- patient is (a 2:30 AM dose on the night clocks spring forward over 2:30, fired at 3:00; or a
-- patient away from their schedule's zone) is left to the general turn (outcome 'general',
-- nothing changed): its reply names the dose by the time the patient set where the clocks
-- sprang over it ("your 2:30 AM dose", core/dose_times.py), where the one statement's texts
-- name it by its instant in the patient's zone ("your 3:00 AM dose"). Otherwise as in migration
-- 20260101014800.

create or replace function public.answer_dose_button_reply(
  p_inbound uuid, p_dose uuid, p_answer text, p_at timestamptz, p_locales text[],
  p_texts jsonb, p_holder text, p_lease_seconds float8, p_lifetime_seconds float8,
  p_payload jsonb
) returns table (
  outcome text, channel text, chat_address text, medication_name text, reply_id uuid,
  lease_token uuid, reply_text text, edit boolean
)
language plpgsql as $$
#variable_conflict use_column
declare
  turn record;
  patient record;
  answer record;
  texts jsonb;
  local_time timestamp;
  dose record;
  what text;
  reply text;
  reply_edit boolean := true;
  token uuid := gen_random_uuid();
  stored uuid;
begin
  select i.status, c.id, c.channel, c.chat_address, c.patient_id, c.state, c.locale
    into turn
    from public.inbound_messages i
    join public.conversations c on c.channel = i.channel and c.chat_address = i.chat_address
   where i.id = p_inbound
     for update of i, c;
  if not found then
    -- Unknown update, or a chat without a conversation yet: the general turn creates it.
    return query select 'general', null::text, null::text, null::text, null::uuid, null::uuid,
                        null::text, false;
    return;
  end if;
  if turn.status <> 'received' then
    return query select 'done', turn.channel, turn.chat_address, null::text, null::uuid,
                        null::uuid, null::text, false;
    return;
  end if;
  -- Read after the locks were granted (a statement's snapshot in READ COMMITTED), so a turn of
  -- this chat that committed while this one waited is seen.
  texts := p_texts -> turn.locale;
  select p.locale, p.timezone, p.organization_id into patient
    from public.patients p
   where p.id = turn.patient_id and p.status <> 'deleted';
  if not found
     or texts is null
     or turn.state ? 'opted_out'
     or (patient.locale <> turn.locale and patient.locale = any (p_locales))
     or (turn.channel in ('sms', 'whatsapp') and exists (
           select from public.contact_points cp
            where cp.channel = turn.channel and cp.address = turn.chat_address
              and cp.opted_out_at is not null))
     -- A chat marked blocked (a provider's permanent refusal): its press lifts the block, and
     -- when no channel reached the patient meanwhile the general turn first runs the planner's
     -- pass of the spell (bot/engine.py _catch_up_while_unreachable), or a dose missed while
     -- unreachable alerted the caregiver at the next pass.
     or exists (
           select from public.contact_points cp
            where cp.channel = turn.channel and cp.address = turn.chat_address
              and cp.blocked_at is not null)
     -- Through a clinic's own bot, a person who is not that clinic's patient: the general turn
     -- answers with its one fixed text (bot.sql chat_of_another_clinic, the same test).
     or (p_payload ? 'telegram_bot' and exists (
           select 1
             from public.clinic_provider_accounts a
             join public.patients p
               on p.id = turn.patient_id
               or p.id = (select c.patient_id from public.contact_points c
                           where c.channel = 'telegram' and c.address = turn.chat_address)
            where a.channel = 'telegram' and a.config->>'bot_id' = p_payload->>'telegram_bot'
              and p.organization_id is distinct from a.organization_id))
  then
    return query select 'general', turn.channel, turn.chat_address, null::text, null::uuid,
                        null::uuid, null::text, false;
    return;
  end if;
  begin
    local_time := p_at at time zone patient.timezone;
    -- The dose as its reminder named it (bot.dialogs.answers.dose_subject): its local time and
    -- the medicine's name (the patient's opt-in) or number (several medicines); none for a dose
    -- that is not this patient's.
    select d.due_at at time zone patient.timezone as due_local, pt.name_medicine_in_reminders
             as name_medicine, m.name, l.label ->> 'medicine_number' as number,
           m.status as medication_status, d.local_time as set_time
      into dose
      from public.dose_events d
      join public.medications m on m.id = d.medication_id
      join public.patients pt on pt.id = d.patient_id
      left join lateral public.medicine_labels(array[d.patient_id]) l
             on l.medication_id = d.medication_id
     where d.id = p_dose and d.patient_id = turn.patient_id;
  exception when invalid_parameter_value then
    -- A zone name Python's zoneinfo may know and this server does not: nothing written yet.
    return query select 'general', turn.channel, turn.chat_address, null::text, null::uuid,
                        null::uuid, null::text, false;
    return;
  end;
  if dose.medication_status = 'deleted'
     -- A dose of another day where the patient is: the general turn's reply names its day
     -- ("your 8:00 AM dose on Tue, December 1"), which p_texts does not hold. Read the next
     -- morning, "your 8:00 AM dose" alone is today's.
     or dose.due_local::date <> local_time::date
     -- Its set time is not its time here: the general turn names it (core/dose_times.py).
     or dose.due_local::time <> dose.set_time
  then
    -- Nothing is recorded against a deleted medicine; the general turn says so kindly.
    return query select 'general', turn.channel, turn.chat_address, null::text, null::uuid,
                        null::uuid, null::text, false;
    return;
  end if;
  select * into answer
    from public.record_final_dose_answer(
      p_dose, p_answer, p_at, turn.channel, 'dose ' || p_answer, turn.patient_id);
  -- The general turn's reply (bot.dialogs.answers): the reminder edited to say what was recorded
  -- or that the dose already had its answer; another patient's or an unknown dose is "no longer
  -- active", sent as a new message.
  if answer.status is null then
    reply := texts ->> 'unknown';
    reply_edit := false;
  elsif not answer.changed and answer.status in ('taken', 'skipped') then
    reply := texts -> 'already' ->> answer.status;
  elsif p_answer = 'taken' then
    reply := replace(texts -> 'taken' ->> extract(hour from local_time)::int, '{mm}',
                     to_char(extract(minute from local_time)::int, 'FM00'));
  else
    reply := texts ->> 'skipped';
  end if;
  if dose.due_local is not null then
    -- The medicine's name goes in last, so nothing in it is taken for a placeholder.
    what := replace(
      texts -> 'what' -> (case when dose.name_medicine then 'named'
                               when dose.number is not null then 'numbered'
                               else 'plain' end) ->> extract(hour from dose.due_local)::int,
      '{dmm}', to_char(extract(minute from dose.due_local)::int, 'FM00'));
    what := replace(replace(what, '{n}', coalesce(dose.number, '')), '{name}', dose.name);
  end if;
  reply := replace(reply, '{what}', coalesce(what, ''));
  update public.inbound_messages
     set status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = null
   where id = p_inbound;
  update public.contact_points
     set last_inbound_at = now()
   where channel = turn.channel and address = turn.chat_address;
  insert into public.scheduled_messages
    (organization_id, patient_id, conversation_id, message_content, platform, kind, payload,
     priority, urgent, allow_fallback, expires_at, idempotency_key, status, attempts, locked_by,
     locked_until, lease_token, scheduled_time)
  values (patient.organization_id, turn.patient_id, turn.id, reply, turn.channel, 'system',
          p_payload, 0, true, false, now() + make_interval(secs => p_lifetime_seconds),
          'reply:' || p_inbound || ':0', 'processing', 1, p_holder,
          clock_timestamp() + make_interval(secs => p_lease_seconds), token, now())
  on conflict (idempotency_key) do nothing
  returning id into stored;
  return query select 'answered', turn.channel, turn.chat_address, answer.medication_name, stored,
                      token, reply, reply_edit;
end
$$;
