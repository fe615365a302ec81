-- MedRemind core schema: organizations, people, medicines, schedules, dose events, appointments,
-- the two fixed messaging tables, conversations, inbound de-duplication, templates, API keys, audit.

create table organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  timezone text not null default 'UTC',
  locale text not null default 'en',
  contact_phone text,
  contact_email text,
  -- Appointment reminder offsets, in minutes before the appointment (24 h and 2 h by default).
  appointment_reminder_offsets integer[] not null default '{1440,120}',
  default_quiet_start time not null default '21:00',
  default_quiet_end time not null default '08:00',
  -- Frequency caps applied by the planner, e.g. {"appointment_sms_per_day": 1, "..._per_week": 3}.
  caps jsonb not null default '{"appointment_per_day": 1, "appointment_per_week": 3}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table clinicians (
  id uuid primary key references auth.users (id) on delete cascade,
  organization_id uuid not null references organizations (id) on delete cascade,
  display_name text not null,
  role text not null default 'clinician' check (role in ('clinician', 'admin')),
  created_at timestamptz not null default now()
);
create index clinicians_org_idx on clinicians (organization_id);

create table patients (
  id uuid primary key default gen_random_uuid(),
  -- Null for a patient who found the bot on their own; no clinician sees such a patient.
  organization_id uuid references organizations (id) on delete cascade,
  display_name text,
  locale text not null default 'en',
  timezone text not null default 'UTC',
  -- 'home' keeps reminders at home wall-clock times when travelling; 'follow' re-plans in the new zone.
  timezone_mode text not null default 'home' check (timezone_mode in ('home', 'follow')),
  quiet_start time,
  quiet_end time,
  channel_order text[] not null default '{telegram,whatsapp,sms,email}',
  consent_at timestamptz,
  name_medicine_in_reminders boolean not null default false,
  nag_interval_minutes integer not null default 15 check (nag_interval_minutes between 1 and 720),
  nag_max integer not null default 3 check (nag_max between 0 and 20),
  reminders_paused boolean not null default false,
  wake_time time not null default '07:00',
  breakfast_time time not null default '08:00',
  lunch_time time not null default '12:30',
  dinner_time time not null default '18:30',
  sleep_time time not null default '22:00',
  external_id text,
  status text not null default 'active' check (status in ('invited', 'active', 'deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (channel_order <@ array['telegram', 'whatsapp', 'sms', 'email', 'console']::text[])
);
create index patients_org_idx on patients (organization_id);
create unique index patients_org_external_idx on patients (organization_id, external_id)
  where external_id is not null;

create table patient_invites (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  token_hash text not null unique,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index patient_invites_patient_idx on patient_invites (patient_id);

create table contact_points (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  channel text not null check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  address text not null,
  verified boolean not null default false,
  active boolean not null default true,
  opted_out_at timestamptz,
  blocked_at timestamptz,
  last_error text,
  last_inbound_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (channel, address)
);
create index contact_points_patient_idx on contact_points (patient_id);

create table caregivers (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  name text not null,
  channel text not null check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  address text not null,
  alert_delay_minutes integer not null default 30 check (alert_delay_minutes between 0 and 1440),
  -- Whether alerts may say which medicine was missed (the patient's choice; generic otherwise).
  share_details boolean not null default false,
  active boolean not null default true,
  created_at timestamptz not null default now()
);
create index caregivers_patient_idx on caregivers (patient_id);

create table medications (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references patients (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  dose text,
  pill_count integer check (pill_count >= 0),
  pills_per_dose numeric not null default 1 check (pills_per_dose > 0),
  refill_days_before integer not null default 5 check (refill_days_before between 0 and 60),
  refill_reminded_at timestamptz,
  status text not null default 'active' check (status in ('active', 'paused', 'deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index medications_patient_idx on medications (patient_id);

create table reminder_schedules (
  id uuid primary key default gen_random_uuid(),
  medication_id uuid not null references medications (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  times_of_day time[] not null check (cardinality(times_of_day) between 1 and 24),
  -- ISO weekdays (1 = Monday); null means every day.
  days_of_week smallint[] check (days_of_week <@ array[1, 2, 3, 4, 5, 6, 7]::smallint[]),
  every_n_days integer check (every_n_days >= 1),
  start_date date not null default current_date,
  end_date date,
  max_count integer check (max_count >= 1),
  -- Null: the patient's timezone (and its home/follow mode).
  timezone text,
  fhir_timing jsonb,
  status text not null default 'active' check (status in ('active', 'paused', 'ended')),
  version integer not null default 1,
  planned_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (end_date is null or end_date >= start_date)
);
create index reminder_schedules_patient_idx on reminder_schedules (patient_id);
create index reminder_schedules_medication_idx on reminder_schedules (medication_id);
create index reminder_schedules_active_idx on reminder_schedules (planned_until) where status = 'active';

create table dose_events (
  id uuid primary key default gen_random_uuid(),
  schedule_id uuid not null references reminder_schedules (id) on delete cascade,
  medication_id uuid not null references medications (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  due_at timestamptz not null,
  local_date date not null,
  local_time time not null,
  status text not null default 'due'
    check (status in ('due', 'taken', 'snoozed', 'skipped', 'missed', 'cancelled')),
  answered_at timestamptz,
  answered_channel text,
  snoozed_until timestamptz,
  nag_count integer not null default 0,
  caregiver_alerted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (schedule_id, due_at)
);
create index dose_events_patient_due_idx on dose_events (patient_id, due_at);

create table appointments (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  starts_at timestamptz not null,
  duration_minutes integer not null default 30 check (duration_minutes between 1 and 1440),
  location text,
  clinician_name text,
  -- The patient's own offsets override the organization's when set.
  reminder_offsets integer[],
  status text not null default 'scheduled' check (
    status in ('scheduled', 'confirmed', 'reschedule_requested', 'cancelled', 'completed', 'no_show')
  ),
  external_id text,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index appointments_patient_idx on appointments (patient_id, starts_at);
create index appointments_org_idx on appointments (organization_id, starts_at);

create table scheduled_messages (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid references organizations (id) on delete cascade,
  patient_id uuid not null references patients (id) on delete cascade,
  message_content text,
  scheduled_time timestamptz not null default now(),
  status text not null default 'pending' check (
    status in ('pending', 'processing', 'sent', 'delivered', 'failed', 'cancelled', 'expired')
  ),
  platform text not null default 'auto'
    check (platform in ('telegram', 'whatsapp', 'sms', 'email', 'console', 'auto')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  attempts integer not null default 0,
  last_error text,
  kind text not null default 'free_text' check (kind in (
    'medication_reminder', 'dose_followup', 'missed_dose_caregiver', 'appointment_confirmation',
    'appointment_reminder', 'appointment_cancelled', 'appointment_rescheduled', 'refill_reminder',
    'free_text', 'system'
  )),
  template text,
  payload jsonb not null default '{}'::jsonb,
  -- Lower runs first: medication reminders before clinic announcements.
  priority smallint not null default 5 check (priority between 0 and 9),
  max_attempts integer not null default 5 check (max_attempts between 1 and 50),
  expires_at timestamptz,
  urgent boolean not null default false,
  allow_fallback boolean not null default true,
  locked_by text,
  locked_until timestamptz,
  lease_token uuid,
  idempotency_key text unique,
  dose_event_id uuid references dose_events (id) on delete cascade,
  appointment_id uuid references appointments (id) on delete cascade,
  caregiver_id uuid references caregivers (id) on delete cascade,
  created_by uuid,
  sent_at timestamptz,
  delivered_at timestamptz,
  provider_message_id text,
  channel_used text,
  -- Channels already tried for this message (fallback walks the patient's order past these).
  channels_tried text[] not null default '{}',
  check (status <> 'processing' or (lease_token is not null and locked_until is not null))
);
-- The claim query's index: due pending rows in priority order. Small, because sent rows leave it.
create index scheduled_messages_due_idx on scheduled_messages (priority, scheduled_time)
  where status = 'pending';
-- The reaper's index: leases to return.
create index scheduled_messages_lease_idx on scheduled_messages (locked_until)
  where status = 'processing';
create index scheduled_messages_patient_idx on scheduled_messages (patient_id, scheduled_time);
create index scheduled_messages_org_idx on scheduled_messages (organization_id, scheduled_time);
create index scheduled_messages_dose_idx on scheduled_messages (dose_event_id)
  where dose_event_id is not null;
create index scheduled_messages_appointment_idx on scheduled_messages (appointment_id)
  where appointment_id is not null;
create index scheduled_messages_provider_idx on scheduled_messages (provider_message_id)
  where provider_message_id is not null;

create table message_delivery_attempts (
  id uuid primary key default gen_random_uuid(),
  message_id uuid not null references scheduled_messages (id) on delete cascade,
  attempt_time timestamptz not null default now(),
  status text not null check (status in ('sent', 'failed', 'rate_limited', 'delivered', 'undelivered')),
  error_message text,
  response_data jsonb,
  channel text check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  error_class text check (error_class in ('transient', 'rate_limited', 'permanent', 'config')),
  provider_message_id text,
  duration_ms integer
);
create index message_delivery_attempts_message_idx on message_delivery_attempts (message_id, attempt_time);

-- Provider status callbacks (Twilio), de-duplicated by sid and status so a replay has no effect.
create table delivery_status_events (
  id bigint generated always as identity primary key,
  provider_message_id text not null,
  status text not null,
  error_code text,
  received_at timestamptz not null default now(),
  unique (provider_message_id, status)
);

create table conversations (
  id uuid primary key default gen_random_uuid(),
  channel text not null check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  chat_address text not null,
  patient_id uuid references patients (id) on delete cascade,
  step text not null default 'idle',
  state jsonb not null default '{}'::jsonb,
  locale text not null default 'en',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (channel, chat_address)
);
create index conversations_patient_idx on conversations (patient_id);

-- Every inbound update is stored before it is acknowledged; processing resumes from here.
create table inbound_messages (
  id uuid primary key default gen_random_uuid(),
  channel text not null check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  provider_message_id text not null,
  chat_address text,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  status text not null default 'received' check (status in ('received', 'processed', 'failed')),
  processed_at timestamptz,
  attempts integer not null default 0,
  last_error text,
  unique (channel, provider_message_id)
);
create index inbound_messages_unprocessed_idx on inbound_messages (received_at)
  where status = 'received';

create table message_templates (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  name text not null,
  kind text not null default 'free_text',
  locale text not null default 'en',
  channel text not null default 'default'
    check (channel in ('default', 'telegram', 'whatsapp', 'sms', 'email', 'console')),
  body text not null check (length(body) <= 10000),
  subject text,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (organization_id, name, locale, channel)
);

create table api_keys (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references organizations (id) on delete cascade,
  name text not null,
  prefix text not null unique,
  key_hash text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);

create table api_idempotency_keys (
  organization_id uuid not null references organizations (id) on delete cascade,
  key text not null,
  request_fingerprint text not null,
  response_status integer not null,
  response_body jsonb not null,
  created_at timestamptz not null default now(),
  primary key (organization_id, key)
);

create table audit_log (
  id bigint generated always as identity primary key,
  organization_id uuid references organizations (id) on delete cascade,
  actor text not null,
  action text not null,
  entity text not null,
  entity_id text,
  details jsonb not null default '{}'::jsonb,
  at timestamptz not null default now()
);
create index audit_log_org_idx on audit_log (organization_id, at);

-- updated_at maintenance.
create function touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end
$$;

do $$
declare t text;
begin
  foreach t in array array['organizations', 'patients', 'contact_points', 'medications',
    'reminder_schedules', 'dose_events', 'appointments', 'scheduled_messages', 'conversations',
    'message_templates']
  loop
    execute format(
      'create trigger %I before update on %I for each row execute function touch_updated_at()',
      t || '_touch', t);
  end loop;
end
$$;

-- One NOTIFY per statement when rows become due soon, so sleeping workers wake at once. The
-- payload is the earliest due time; no PHI travels on the channel.
create function notify_due_messages() returns trigger language plpgsql as $$
declare earliest timestamptz;
begin
  select min(scheduled_time) into earliest from new_rows
   where status = 'pending' and scheduled_time <= now() + interval '5 minutes';
  if earliest is not null then
    perform pg_notify('medremind_due', to_char(earliest at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
  end if;
  return null;
end
$$;

create trigger scheduled_messages_notify_insert
  after insert on scheduled_messages referencing new table as new_rows
  for each statement execute function notify_due_messages();
create trigger scheduled_messages_notify_update
  after update on scheduled_messages referencing new table as new_rows
  for each statement execute function notify_due_messages();
