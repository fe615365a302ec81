-- A Telegram chat is linked by the person's own chat (the bot, when they open the clinic's invite
-- link: "/start <token>"), never typed in by a clinic. Hostile input, closed.
--
-- A chat id is just a number, and Telegram delivers to any chat that has started the bot, so
-- nothing else stops a wrong one. A clinician who typed a chat id as a patient's contact (the
-- dashboard's New patient form, or PostgREST with any signed-in clinician's token) made the
-- service message whoever's chat that was, a stranger who never heard of the clinic, with the
-- clinic's reminders and the patient's name and medicines. The same held for:
-- - a linked chat (or a Telegram caregiver) moved to another patient (update of patient_id): that
--   patient's reminders or alerts went to a chat that never chose them;
-- - a Telegram caregiver added by a clinician through PostgREST: missed-dose alerts naming the
--   patient went to the chat typed;
-- - invite_address_owner called through PostgREST with channel 'telegram': the chat's owner, if a
--   patient of no clinic, was sent the clinic's invitation, and accepting it merged them into the
--   clinic's record (its reminders, name and medicines).
-- Now each of these is refused when a clinic writes it: a clinician (role authenticated, or a
-- clinician's JWT inside a SECURITY DEFINER function) or the clinic HTTP API (the web process's
-- medremind_app role with medremind.actor = 'api_key:<prefix>', set for the API's transactions).
-- The error names how to link instead. The bot and the worker (medremind_app without an actor)
-- link, merge and erase as before; a clinician may still deactivate or opt out a linked chat, and
-- change a Telegram contact point's other columns.

create function public.refuse_typed_telegram_chat() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  -- Only the clinic's writes: a signed-in clinician or an API key. SECURITY INVOKER, so
  -- current_user is the writer's role, and auth.uid() the clinician's even inside a SECURITY
  -- DEFINER function a clinician called (invite_address_owner).
  if not (current_user = 'authenticated'
          or auth.uid() is not null
          or coalesce(current_setting('medremind.actor', true), '') like 'api_key:%') then
    return new;
  end if;
  if tg_table_name = 'caregivers' then
    raise exception 'a Telegram caregiver is named by the patient, not typed in by the clinic: a chat id cannot be entered'
      using errcode = 'insufficient_privilege',
            hint = 'the patient names their caregiver in the bot (/settings, Caregiver); or give'
                   ' the caregiver''s phone number or e-mail address';
  end if;
  raise exception 'a Telegram contact is linked by the patient, not typed in: a chat id cannot be entered or moved'
    using errcode = 'insufficient_privilege',
          hint = 'make an invite link for the patient (Make an invite link on the patient''s page,'
                 ' or POST /api/v1/patients/{id}/invites) and have them open it in Telegram: their'
                 ' chat is then linked to the record';
end
$$;
revoke all on function public.refuse_typed_telegram_chat() from public;

create trigger contact_points_telegram_typed_insert
  before insert on contact_points
  for each row when (new.channel = 'telegram')
  execute function public.refuse_typed_telegram_chat();

create trigger contact_points_telegram_typed_update
  before update of channel, address, patient_id on contact_points
  for each row when (new.channel = 'telegram'
                     and (old.channel is distinct from new.channel
                          or old.address is distinct from new.address
                          or old.patient_id is distinct from new.patient_id))
  execute function public.refuse_typed_telegram_chat();

create trigger caregivers_telegram_typed_insert
  before insert on caregivers
  for each row when (new.channel = 'telegram')
  execute function public.refuse_typed_telegram_chat();

create trigger caregivers_telegram_typed_update
  before update of channel, address, patient_id on caregivers
  for each row when (new.channel = 'telegram'
                     and (old.channel is distinct from new.channel
                          or old.address is distinct from new.address
                          or old.patient_id is distinct from new.patient_id))
  execute function public.refuse_typed_telegram_chat();

-- An invitation to a Telegram chat's owner (invite_address_owner, or a row written directly).
create trigger patient_invites_telegram_typed
  before insert or update of claimed_channel, claimed_address on patient_invites
  for each row when (new.claimed_channel = 'telegram')
  execute function public.refuse_typed_telegram_chat();
