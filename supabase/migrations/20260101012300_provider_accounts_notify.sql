-- Announce every change of clinics' provider accounts on the channel 'medremind_accounts' (no
-- payload: nothing about the account leaves the database this way). The web process keeps the
-- accounts Twilio webhooks are verified with in memory and reloads them on this notice, so a
-- webhook's signature is checked before any query: an unsigned or forged /twilio/inbound
-- naming a number costs the database nothing (medremind.web.twilio_accounts).

create function public.notify_provider_accounts_changed() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  perform pg_notify('medremind_accounts', '');
  return null;
end
$$;
revoke all on function public.notify_provider_accounts_changed() from public;

create trigger provider_accounts_changed
  after insert or update or delete or truncate on public.clinic_provider_accounts
  for each statement execute function public.notify_provider_accounts_changed();
