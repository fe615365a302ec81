-- The patient web app (issue 18 item 2): passwordless sign-in by a one-time link sent over one of
-- the patient's own channels, and short-lived, revocable sessions.
--
-- Only hashes are stored (SHA-256 of 32 random bytes): a copy of the database signs nobody in.
-- Both tables are the service's alone: no clinician reads or writes a patient's credentials
-- (a clinician who could would be able to act as the patient).

create table patient_sign_in_links (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  token_hash text not null unique check (length(token_hash) = 64),
  -- The channel the link went out on, for the patient's list of sign-ins.
  channel text not null check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  check (expires_at > created_at)
);
create index patient_sign_in_links_patient_idx on patient_sign_in_links (patient_id, created_at);

create table patient_web_sessions (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  token_hash text not null unique check (length(token_hash) = 64),
  device_label text check (device_label is null or length(device_label) <= 100),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_seen_at timestamptz,
  revoked_at timestamptz,
  check (expires_at > created_at)
);
create index patient_web_sessions_patient_idx on patient_web_sessions (patient_id)
  where revoked_at is null;

do $$
declare t text;
begin
  foreach t in array array['patient_sign_in_links', 'patient_web_sessions'] loop
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
