-- A change of what a patient's appointment reminders should be (their standing offsets, their or
-- the clinic's choice for appointment messages), made by any path (the bot, the dashboard, the
-- API), marks the patient's appointments still ahead as stale in the same transaction; the
-- worker's planner tick (scheduler/appointments.py: sync_appointments) plans their reminders
-- again and clears the mark. The dashboard writes rows only, so this is how its changes reach
-- the planner.

alter table appointments add column reminders_stale boolean not null default false;
create index appointments_reminders_stale_idx on appointments (starts_at) where reminders_stale;

create function public.mark_appointment_reminders_stale() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  patient uuid;
begin
  -- Fields are read only in the branch of their table (plpgsql resolves them when run).
  if tg_table_name = 'patients' then
    patient := new.id;
  else
    if new.category <> 'appointments' then
      return new;
    end if;
    patient := new.patient_id;
  end if;
  update appointments set reminders_stale = true
   where patient_id = patient and starts_at > now() and not reminders_stale
     and status in ('scheduled', 'confirmed', 'reschedule_requested');
  return new;
end
$$;
revoke all on function public.mark_appointment_reminders_stale() from public;

create trigger patients_reminder_offsets_changed
  after update of appointment_reminder_offsets on patients
  for each row when (new.appointment_reminder_offsets is distinct from old.appointment_reminder_offsets)
  execute function public.mark_appointment_reminders_stale();

create trigger patient_preferences_appointments_changed
  after insert or update of patient_choice, clinic_choice on patient_preferences
  for each row execute function public.mark_appointment_reminders_stale();
