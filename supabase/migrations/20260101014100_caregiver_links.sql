-- A caregiver on Telegram links their own chat: the patient forwards a link, the caregiver opens it.
--
-- The bot's /settings > Caregiver took any number typed as a Telegram caregiver's chat id; a chat
-- id cannot be checked by typing it (Telegram delivers to any chat that started the bot), so one
-- wrong digit sent missed-dose alerts, with the patient's name, to a stranger's chat. The clinic's
-- API refuses typed chat ids for the same reason (migration 20260101012700). Now the bot gives the
-- patient a deep link, https://t.me/<bot>?start=cg_<token>, and keeps what the patient chose here
-- until the caregiver's own chat opens it: that /start makes the caregivers row, with the chat id
-- Telegram gave it. Until then there is no caregivers row, so no alert is planned or sent.
--
-- Only the SHA-256 of the token is stored (32 random bytes): a copy of the database links nobody.
-- Single use (used_at), short-lived (expires_at; the bot gives 7 days). The service's alone, like
-- patient_sign_in_links: a clinician neither reads nor writes it. Erasure deletes its rows with
-- every other row that points at the patient (erase_patient goes through the catalog).

create table caregiver_links (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  token_hash text not null unique check (length(token_hash) = 64),
  name text not null check (length(name) between 1 and 200),
  alert_delay_minutes integer not null check (alert_delay_minutes between 0 and 1440),
  -- null: the patient's own zone, as caregivers.timezone.
  timezone text check (timezone is null or public.is_iana_timezone(timezone)),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  -- The caregivers row the link made.
  caregiver_id uuid references caregivers (id) on delete set null,
  check (expires_at > created_at)
);
create index caregiver_links_patient_idx on caregiver_links (patient_id);

alter table public.caregiver_links enable row level security;
alter table public.caregiver_links force row level security;
revoke all on public.caregiver_links from public, anon, authenticated;
grant select, insert, update, delete on public.caregiver_links to medremind_app;
create policy caregiver_links_service on public.caregiver_links
  for all to medremind_app using (true) with check (true);
grant all on public.caregiver_links to service_role;
