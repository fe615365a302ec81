-- Patient preferences (issue 17): opt-in or out per category of message, a channel per category,
-- and standing appointment reminder offsets.
--
-- Categories: 'medication' (medication reminders, follow-ups, refill notices, caregiver alerts
-- about missed doses), 'appointments' (appointment reminders and confirmation requests; the
-- notice that a booked appointment moved or was cancelled still goes: it is about a booking the
-- patient has), 'clinic_news' (a clinic's message to a group of patients, or any free text whose
-- payload says "category": "clinic_news").
--
-- The patient's choice and the clinic's are separate columns, and the patient's wins: a patient
-- who opted out stays out whatever the clinic writes. The dashboard's role (authenticated) has
-- column privileges on the clinic's columns only, so a clinician cannot write the patient's
-- choice (nor delete the row that holds it); the service role writes the patient's choice only
-- from the patient's own conversation (bot /settings) and the clinic's only from the API.

create table patient_preferences (
  patient_id uuid not null references patients (id) on delete cascade,
  category text not null check (category in ('medication', 'appointments', 'clinic_news')),
  patient_choice text check (patient_choice in ('in', 'out')),
  patient_chose_at timestamptz,
  clinic_choice text check (clinic_choice in ('in', 'out')),
  clinic_chose_at timestamptz,
  -- The clinician (auth.users id) or 'api' key that made the clinic's choice, for the audit.
  clinic_chose_by text check (length(clinic_chose_by) <= 100),
  -- The channel messages of this category go to first (then the patient's channel order).
  channel text check (channel in ('telegram', 'whatsapp', 'sms', 'email', 'console')),
  updated_at timestamptz not null default now(),
  primary key (patient_id, category)
);

-- Standing appointment reminder offsets (minutes before the start), the patient's own: used for
-- every appointment without offsets of its own, instead of the clinic's default.
alter table patients add column appointment_reminder_offsets integer[] check (
  appointment_reminder_offsets is null
  or (cardinality(appointment_reminder_offsets) between 1 and 6
      and 5 <= all(appointment_reminder_offsets)
      and 20160 >= all(appointment_reminder_offsets)));

create trigger patient_preferences_touch before update on patient_preferences
  for each row execute function touch_updated_at();

alter table patient_preferences enable row level security;
alter table patient_preferences force row level security;
grant select, insert, update, delete on patient_preferences to medremind_app;
create policy patient_preferences_service on patient_preferences for all to medremind_app
  using (true) with check (true);
grant all on patient_preferences to service_role;

-- Clinicians: read their patients' preferences, write only the clinic's columns.
grant select on patient_preferences to authenticated;
grant insert (patient_id, category, clinic_choice, clinic_chose_at, clinic_chose_by, channel)
  on patient_preferences to authenticated;
grant update (clinic_choice, clinic_chose_at, clinic_chose_by, channel)
  on patient_preferences to authenticated;
create policy patient_preferences_clinician on patient_preferences for all to authenticated
  using (public.patient_in_my_organization(patient_id))
  with check (public.patient_in_my_organization(patient_id));

-- The category a message belongs to (null: none, never held by a preference).
create function public.message_category(p_kind text, p_payload jsonb) returns text
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  select case
    when p_kind in ('medication_reminder', 'dose_followup', 'refill_reminder',
                    'missed_dose_caregiver') then 'medication'
    when p_kind in ('appointment_reminder', 'appointment_confirmation') then 'appointments'
    when p_kind = 'free_text'
         and (p_payload ->> 'category' = 'clinic_news' or p_payload ->> 'group' = 'true')
      then 'clinic_news'
  end
$$;
grant execute on function public.message_category(text, jsonb) to authenticated, medremind_app;

-- Whether the patient is opted out of the category: the patient's choice, else the clinic's,
-- else opted in.
create function public.preference_opted_out(p_patient_choice text, p_clinic_choice text)
  returns boolean
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  select coalesce(p_patient_choice, p_clinic_choice, 'in') = 'out'
$$;
grant execute on function public.preference_opted_out(text, text) to authenticated, medremind_app;

-- Whether the patient is opted out of a category (the planner's check).
create function public.patient_opted_out(p_patient uuid, p_category text) returns boolean
  language sql stable parallel safe set search_path = public, pg_temp as $$
  select coalesce((select public.preference_opted_out(pp.patient_choice, pp.clinic_choice)
                     from public.patient_preferences pp
                    where pp.patient_id = p_patient and pp.category = p_category), false)
$$;
grant execute on function public.patient_opted_out(uuid, text) to authenticated, medremind_app;

-- Every change of a choice or the channel is audited (who, what, from and to), in the
-- changing transaction, whichever path wrote it (dashboard, API).
create function public.audit_clinic_preference() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'UPDATE'
     and new.clinic_choice is not distinct from old.clinic_choice
     and new.channel is not distinct from old.channel
     and new.patient_choice is not distinct from old.patient_choice then
    return new;
  end if;
  insert into audit_log (organization_id, actor, action, entity, entity_id, details)
  select p.organization_id,
         case when auth.uid() is not null then 'clinician:' || auth.uid()
              when new.patient_choice is distinct from old.patient_choice then 'patient'
              else coalesce(new.clinic_chose_by, 'service') end,
         'preference.changed', 'patient', new.patient_id::text,
         jsonb_build_object(
           'category', new.category,
           'patient_choice', new.patient_choice,
           'clinic_choice', new.clinic_choice,
           'channel', new.channel,
           'previous', case when tg_op = 'UPDATE' then jsonb_build_object(
             'patient_choice', old.patient_choice, 'clinic_choice', old.clinic_choice,
             'channel', old.channel) end)
    from patients p where p.id = new.patient_id;
  return new;
end
$$;
revoke all on function public.audit_clinic_preference() from public;
create trigger patient_preferences_audit after insert or update on patient_preferences
  for each row execute function public.audit_clinic_preference();
