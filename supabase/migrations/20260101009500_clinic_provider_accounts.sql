-- Per-clinic provider accounts: a clinic's own Twilio SMS sender (a number or a messaging
-- service), Twilio WhatsApp sender and SMTP server. The global TWILIO_* / SMTP_* variables stay
-- the default for every clinic without one.
--
-- The secret part (Twilio auth token, SMTP password) is stored only as a Fernet token made by the
-- web process with MEDREMIND_CREDENTIALS_KEY (core/credentials.py); the database never holds the
-- key. Clinicians read everything but the secret (column grants) and a masked hint of it; nobody
-- but the service's processes writes: an admin saves through the web process, which validates
-- the account at the provider before storing it.

create table clinic_provider_accounts (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  channel text not null check (channel in ('sms', 'whatsapp', 'email')),
  -- What is not secret: Twilio account SID, sender number or messaging service SID; SMTP host,
  -- port, security, user name and From address (see medremind/provider_accounts.py).
  config jsonb not null check (jsonb_typeof(config) = 'object'),
  -- Fernet token (MultiFernet: readable with any key of MEDREMIND_CREDENTIALS_KEY).
  secret text not null check (length(secret) between 1 and 4000),
  -- e.g. '****3f9a': lets an admin see which secret is stored without reading it.
  secret_hint text not null check (length(secret_hint) <= 40),
  -- The number patients write to (E.164), for routing Twilio's inbound webhooks by "To".
  inbound_number text check (inbound_number ~ '^\+[1-9][0-9]{6,14}$'),
  -- Twilio messaging service: inbound forms name it when the number is in its pool.
  messaging_service_sid text check (messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'),
  validated_at timestamptz not null,
  updated_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, channel)
);
-- One clinic per receiving number and channel: an inbound message has exactly one clinic.
create unique index clinic_provider_accounts_inbound_idx
  on clinic_provider_accounts (channel, inbound_number) where inbound_number is not null;
create index clinic_provider_accounts_service_idx
  on clinic_provider_accounts (messaging_service_sid) where messaging_service_sid is not null;

create trigger clinic_provider_accounts_touch before update on clinic_provider_accounts
  for each row execute function touch_updated_at();

-- One-time tokens with which the dashboard's server hands an admin's change to the web process
-- (which holds the credentials key): issued as the signed-in clinician under RLS, valid for two
-- minutes, consumed once. Only the SHA-256 of a token is stored.
create table clinic_admin_tokens (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  organization_id uuid not null references organizations (id) on delete cascade,
  clinician_id uuid not null references clinicians (id) on delete cascade,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index clinic_admin_tokens_expiry_idx on clinic_admin_tokens (expires_at);

-- RLS: the service's processes read and write both tables; clinicians get only what is granted
-- below (a clinic's accounts without the secret; no token at all).
do $$
declare t text;
begin
  foreach t in array array['clinic_provider_accounts', 'clinic_admin_tokens'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    execute format('grant select, insert, update, delete on public.%I to medremind_app', t);
    execute format(
      'create policy %I on public.%I for all to medremind_app using (true) with check (true)',
      t || '_service', t);
    execute format('grant all on public.%I to service_role', t);
  end loop;
end
$$;

-- Clinicians: their clinic's accounts, never the secret column.
grant select (id, organization_id, channel, config, secret_hint, inbound_number,
              messaging_service_sid, validated_at, updated_by, created_at, updated_at)
  on clinic_provider_accounts to authenticated;
create policy clinic_provider_accounts_clinician on clinic_provider_accounts for select
  to authenticated using (organization_id = public.current_organization_id());

-- Issue a token for the calling clinician, who must be an admin of their clinic.
create function public.issue_clinic_admin_token() returns text
  language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  me clinicians%rowtype;
  -- gen_random_uuid() draws from pg_strong_random(): two give 244 random bits (no pgcrypto).
  token text := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
begin
  select * into me from clinicians where id = auth.uid();
  if not found then
    raise exception 'not signed in as a clinician' using errcode = '42501';
  end if;
  if me.role <> 'admin' then
    raise exception 'only an admin of the clinic can change its provider accounts'
      using errcode = '42501';
  end if;
  delete from clinic_admin_tokens where expires_at < now();
  insert into clinic_admin_tokens (token_hash, organization_id, clinician_id, expires_at)
  values (encode(sha256(convert_to(token, 'UTF8')), 'hex'), me.organization_id, me.id,
          now() + interval '2 minutes');
  return token;
end
$$;
revoke all on function public.issue_clinic_admin_token() from public;
grant execute on function public.issue_clinic_admin_token() to authenticated;
