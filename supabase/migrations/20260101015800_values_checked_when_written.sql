-- The limits on names and texts that go into messages hold for the values written, not for the
-- rows: an old row keeps its value and can still be updated in its other columns.
--
-- Migrations 20260101009110 (template maxima: names 50, clinic and medicine names 60, dose 40,
-- clinician 50, location 80, in UTF-16 units), 20260101007600 (appointment texts 200) and
-- 20260101015500 (a patient's name must show something) added CHECK constraints NOT VALID, "rows
-- written before are not checked, every new or changed row is". PostgreSQL checks a NOT VALID
-- constraint against the whole new row of every UPDATE, whatever it changes: a patient whose
-- name was stored longer than 50 units before 009110 (the bot and the API took 200) could not be
-- paused, opted out, linked by the record of their first reminder (its trigger updates
-- patients.linked_at: the statement records a whole batch, every patient of it failed with
-- them), nor moved to another zone; a medicine with a long name could not be paused, nor its
-- pills counted at a Taken; an appointment with a long location could not be confirmed.
--
-- So each limit is a trigger now, on insert and on an update that changes the value: the same
-- refusal (SQLSTATE 23514, check_violation, with the constraint's name, which the dashboard and
-- the tests read), for exactly the writes the constraint meant. Stored values stay as they were
-- (a medicine's name is the clinic's record; the renderer shortens a longer one in a message).
-- The direction-control cleaning triggers (patients_clean_display_name, caregivers_clean_name)
-- run first: BEFORE triggers fire in name order, and "clean" sorts before "written".
-- caregivers_name_visible stays a valid CHECK (migration 20260101015760 made every row conform).

create or replace function public.refuse_written_value(p_table text, p_constraint text)
  returns void language plpgsql set search_path = pg_catalog as $$
begin
  -- The message a CHECK gives, without its "Failing row contains" detail (names, addresses).
  raise exception 'new row for relation "%" violates check constraint "%"', p_table, p_constraint
    using errcode = 'check_violation', constraint = p_constraint, table = p_table;
end
$$;
revoke all on function public.refuse_written_value(text, text) from public;
grant execute on function public.refuse_written_value(text, text)
  to authenticated, medremind_app, service_role;

-- patients.display_name: at most 50 units, and it shows something.
create or replace function public.patients_display_name_written() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  if tg_op = 'UPDATE' and new.display_name is not distinct from old.display_name then
    return new;
  end if;
  if public.utf16_units(new.display_name) > 50 then
    perform public.refuse_written_value('patients', 'patients_display_name_template_max');
  end if;
  if not public.person_name_visible(new.display_name) then
    perform public.refuse_written_value('patients', 'patients_display_name_visible');
  end if;
  return new;
end
$$;
alter table public.patients drop constraint patients_display_name_template_max;
alter table public.patients drop constraint patients_display_name_visible;
create trigger patients_display_name_written
  before insert or update of display_name on public.patients
  for each row execute function public.patients_display_name_written();

-- caregivers.name: at most 50 units (that it shows is caregivers_name_visible's, a valid check).
create or replace function public.caregivers_name_written() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  if tg_op = 'UPDATE' and new.name is not distinct from old.name then
    return new;
  end if;
  if public.utf16_units(new.name) > 50 then
    perform public.refuse_written_value('caregivers', 'caregivers_name_template_max');
  end if;
  return new;
end
$$;
alter table public.caregivers drop constraint caregivers_name_template_max;
create trigger caregivers_name_written
  before insert or update of name on public.caregivers
  for each row execute function public.caregivers_name_written();

-- organizations.name: at most 60 units.
create or replace function public.organizations_name_written() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  if tg_op = 'UPDATE' and new.name is not distinct from old.name then
    return new;
  end if;
  if public.utf16_units(new.name) > 60 then
    perform public.refuse_written_value('organizations', 'organizations_name_template_max');
  end if;
  return new;
end
$$;
alter table public.organizations drop constraint organizations_name_template_max;
create trigger organizations_name_written
  before insert or update of name on public.organizations
  for each row execute function public.organizations_name_written();

-- medications.name at most 60 units, dose at most 40.
create or replace function public.medications_values_written() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  if (tg_op = 'INSERT' or new.name is distinct from old.name)
     and public.utf16_units(new.name) > 60 then
    perform public.refuse_written_value('medications', 'medications_name_template_max');
  end if;
  if (tg_op = 'INSERT' or new.dose is distinct from old.dose)
     and public.utf16_units(new.dose) > 40 then
    perform public.refuse_written_value('medications', 'medications_dose_template_max');
  end if;
  return new;
end
$$;
alter table public.medications drop constraint medications_name_template_max;
alter table public.medications drop constraint medications_dose_template_max;
create trigger medications_values_written
  before insert or update of name, dose on public.medications
  for each row execute function public.medications_values_written();

-- appointments.clinician_name at most 50 units, location at most 80 (each within the 200
-- characters of appointments_text_lengths, which these imply: it goes).
create or replace function public.appointments_values_written() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  if (tg_op = 'INSERT' or new.clinician_name is distinct from old.clinician_name)
     and public.utf16_units(new.clinician_name) > 50 then
    perform public.refuse_written_value('appointments', 'appointments_clinician_name_template_max');
  end if;
  if (tg_op = 'INSERT' or new.location is distinct from old.location)
     and public.utf16_units(new.location) > 80 then
    perform public.refuse_written_value('appointments', 'appointments_location_template_max');
  end if;
  return new;
end
$$;
alter table public.appointments drop constraint appointments_clinician_name_template_max;
alter table public.appointments drop constraint appointments_location_template_max;
alter table public.appointments drop constraint appointments_text_lengths;
create trigger appointments_values_written
  before insert or update of clinician_name, location on public.appointments
  for each row execute function public.appointments_values_written();
