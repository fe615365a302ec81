-- A clinic's own Telegram bot (issue 20): a clinic provider account of channel 'telegram'
-- (platforms/provider_accounts.py). Its token is the sealed secret like a Twilio auth token
-- (MEDREMIND_CREDENTIALS_KEY); config holds the bot's id and @username, which are public.
-- The clinic's new patients are enrolled on its bot; chats that started another bot keep it.
alter table clinic_provider_accounts drop constraint clinic_provider_accounts_channel_check;
alter table clinic_provider_accounts add constraint clinic_provider_accounts_channel_check
  check (channel in ('sms', 'whatsapp', 'email', 'telegram'));
alter table clinic_provider_accounts add constraint clinic_provider_accounts_telegram_bot_check
  check (channel <> 'telegram' or config->>'bot_id' ~ '^[0-9]{1,20}$');

-- One clinic per bot: an update to it has exactly one clinic.
create unique index clinic_provider_accounts_telegram_bot_idx
  on clinic_provider_accounts ((config->>'bot_id')) where channel = 'telegram';

-- A chat on a clinic's own bot belongs to a patient of that clinic (or of none yet, a person
-- registering): no contact point points across clinics.
create function public.contact_point_bot_of_its_clinic() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  bot_clinic uuid;
  patient_clinic uuid;
begin
  select organization_id into bot_clinic
    from clinic_provider_accounts
   where channel = 'telegram' and config->>'bot_id' = new.telegram_bot;
  if bot_clinic is null then
    return new;  -- a service-wide bot (MEDREMIND_TELEGRAM_BOTS) serves every clinic
  end if;
  select organization_id into patient_clinic from patients where id = new.patient_id;
  if patient_clinic is not null and patient_clinic <> bot_clinic then
    raise exception 'contact point on another clinic''s Telegram bot %', new.telegram_bot
      using errcode = '23514',
            hint = 'a patient can only be on the service''s bots or their own clinic''s';
  end if;
  return new;
end
$$;
create trigger contact_points_bot_of_its_clinic
  before insert or update of telegram_bot, patient_id on contact_points
  for each row when (new.telegram_bot is not null)
  execute function public.contact_point_bot_of_its_clinic();
