-- A clinician pausing or resuming a patient's reminders from the dashboard.
--
-- A pause withdraws what is pending and re-plans the patient; a resume brings back what it
-- withheld and re-plans; either is told to the patient (scheduler/holds.py,
-- scheduler/clinic_pause_notice.py). That is Python the web process runs for the API's
-- PATCH /api/v1/patients/{id}: the dashboard goes through the same code rather than a copy in
-- SQL. As for provider accounts (clinic_admin_tokens, migration 20260101009500), its server asks
-- the database, as the signed-in clinician under RLS, for a one-time token bound to the clinician
-- and to one patient of their clinic, then sends the change to the web process
-- (POST /clinic/patients/{id}/pause, medremind/web/clinic_pause.py) with it. Any clinician of
-- the clinic may (as any API key may); only the SHA-256 of a token is stored; it lasts two
-- minutes and is consumed on first use.

create table clinic_pause_tokens (
  token_hash text primary key check (token_hash ~ '^[0-9a-f]{64}$'),
  organization_id uuid not null references organizations (id) on delete cascade,
  clinician_id uuid not null references clinicians (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index clinic_pause_tokens_expiry_idx on clinic_pause_tokens (expires_at);
-- Each foreign key indexed (tests/integration/test_foreign_key_indexes.py): a clinician's, a
-- patient's or a clinic's delete cascades here without scanning the table.
create index clinic_pause_tokens_clinician_idx on clinic_pause_tokens (clinician_id);
create index clinic_pause_tokens_organization_idx on clinic_pause_tokens (organization_id);
create index clinic_pause_tokens_patient_idx on clinic_pause_tokens (patient_id);

-- The service's processes read and consume tokens; clinicians get none (only the function).
alter table public.clinic_pause_tokens enable row level security;
alter table public.clinic_pause_tokens force row level security;
grant select, insert, update, delete on public.clinic_pause_tokens to medremind_app;
create policy clinic_pause_tokens_service on public.clinic_pause_tokens for all to medremind_app
  using (true) with check (true);
grant all on public.clinic_pause_tokens to service_role;

-- A token for the calling clinician to change the pause of p_patient, or null when p_patient is
-- not a patient of their clinic, or is erased (a forged or stale id: the dashboard says "not
-- found", as for another clinic's patient, which it cannot tell apart).
create function public.issue_pause_token(p_patient uuid) returns text
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
  if not exists (select 1 from patients
                  where id = p_patient and organization_id = me.organization_id
                    and status <> 'deleted') then
    return null;
  end if;
  delete from clinic_pause_tokens where expires_at < now();
  insert into clinic_pause_tokens (token_hash, organization_id, clinician_id, patient_id,
                                   expires_at)
  values (encode(sha256(convert_to(token, 'UTF8')), 'hex'), me.organization_id, me.id, p_patient,
          now() + interval '2 minutes');
  return token;
end
$$;
revoke all on function public.issue_pause_token(uuid) from public;
grant execute on function public.issue_pause_token(uuid) to authenticated;
