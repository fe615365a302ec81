-- A Taken or Skip press answered, recorded and its reply stored in one statement.
--
-- Why: since bot replies became stored rows (20260101009000), the one-round-trip button turn
-- (answer_dose_button, 20260101007000) took four: BEGIN, answer_dose_button, the insert of the
-- reply row (its text was chosen in Python from what the answer returned), COMMIT. Each round trip
-- costs the web process and the database more than the work it carries (bench/webhook.py
-- --trace): the press went from 0.86 to 1.70 ms of web CPU and from 1.02 to 2.59 ms of
-- PostgreSQL CPU.
--
-- answer_dose_button_reply does what answer_dose_button does (same locks in the same order, the
-- same checks that send anything unusual to the general turn, the same record_final_dose_answer)
-- and, in the same statement, inserts the reply as the general turn stores it (bot/reply_rows.py,
-- bot.sql store_replies): a 'processing' row of the chat, leased to the web process (p_holder,
-- p_lease_seconds, a new lease token it returns), urgent, no fallback, expiring after
-- p_lifetime_seconds, idempotency key 'reply:<update id>:0', payload p_payload (the Telegram bot
-- the person wrote to, when not the default). One statement is one transaction: the answer, the
-- update's processed mark and the reply row commit together or not at all. As the general turn's
-- end (bot.sql finish_turn) it notes the inbound time on the chat's contact point and lifts a
-- block a permanent error recorded there (the person's press shows the chat reaches them again);
-- an opt-out stays.
--
-- The reply's text is picked here from p_texts, the bot's texts for this answer in every locale
-- (bot/button_turn.py builds it from bot.texts; tests hold it to the general turn's texts):
--   {"<locale>": {"unknown": ..., "skipped": ...,
--                 "already": {"taken": ..., "skipped": ...},
--                 "taken": [24 texts, one per local hour, "{mm}" standing for the minutes]}}
-- A locale missing from p_texts, or a patient's zone this server does not know (the local time of
-- Taken is read here, not by Python's zoneinfo), sends the press to the general turn, unchanged.
--
-- answer_dose_button stays for web processes of the previous release during a deploy.

create function public.answer_dose_button_reply(
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
  then
    return query select 'general', turn.channel, turn.chat_address, null::text, null::uuid,
                        null::uuid, null::text, false;
    return;
  end if;
  if p_answer = 'taken' then
    begin
      local_time := p_at at time zone patient.timezone;
    exception when invalid_parameter_value then
      -- A zone name Python's zoneinfo may know and this server does not: nothing written yet.
      return query select 'general', turn.channel, turn.chat_address, null::text, null::uuid,
                          null::uuid, null::text, false;
      return;
    end;
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
  update public.inbound_messages
     set status = 'processed', processed_at = now(), attempts = attempts + 1, last_error = null
   where id = p_inbound;
  update public.contact_points
     set last_inbound_at = now(), active = active or blocked_at is not null, blocked_at = null
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

-- Only the service's processes call it (on Supabase, a function EXECUTE-able by PUBLIC would be
-- callable through PostgREST's /rpc by anon and clinicians alike).
revoke all on function public.answer_dose_button_reply(
  uuid, uuid, text, timestamptz, text[], jsonb, text, float8, float8, jsonb) from public;
grant execute on function public.answer_dose_button_reply(
  uuid, uuid, text, timestamptz, text[], jsonb, text, float8, float8, jsonb)
  to medremind_app, service_role;
