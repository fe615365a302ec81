-- A clinician's message may not go out through another clinic's own Telegram bot.
--
-- A bot reply (a row with conversation_id) goes through the bot its payload names
-- ('telegram_bot', platforms.telegram_bots.REPLY_BOT_KEY; scheduler/routing.py). A clinician
-- may insert such a row for a chat of their own patient (20260101009000), and nothing checked
-- the bot: clinic A could send any text to its patient's chat through clinic B's bot (a bot's id
-- is public), in B's name, with B's token; a Telegram chat id is the person's with every bot, so
-- it reaches a person who is also B's patient. As for contact points (20260101010210): a row
-- of a clinician names the service's bots or its own clinic's only. The service's own writes
-- (the web's replies, also to strangers on a clinic's bot) are not checked: they name the bot
-- the person wrote to.

create function public.message_bot_of_its_clinic() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  bot_clinic uuid;
begin
  select organization_id into bot_clinic
    from clinic_provider_accounts
   where channel = 'telegram' and config->>'bot_id' = new.payload->>'telegram_bot';
  if bot_clinic is not null and bot_clinic is distinct from new.organization_id then
    raise exception 'a message through another clinic''s Telegram bot %',
                    new.payload->>'telegram_bot'
      using errcode = 'insufficient_privilege',
            hint = 'a clinic''s message goes through the service''s bots or its own';
  end if;
  return new;
end
$$;
revoke all on function public.message_bot_of_its_clinic() from public;

-- Only a clinician's rows (the WHEN keeps the web's reply path free of the lookup).
create trigger scheduled_messages_bot_of_its_clinic
  before insert or update of payload, organization_id on scheduled_messages
  for each row when (new.payload ? 'telegram_bot' and current_user = 'authenticated')
  execute function public.message_bot_of_its_clinic();
