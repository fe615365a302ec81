-- Texts filled into patients' messages and the dashboard's lists lose their direction controls
-- with a scope (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates), as people's
-- names already do (20260101015500, public.person_name_clean; core/person_names.py says why).
--
-- A medicine a patient named "Ibu<U+202E>profeno" over WhatsApp was stored as typed: every line
-- it was filled into showed reversed after it, "/meds" read "1. Ibusaíd sol sodot ,03:32 sal a"
-- for "a las 23:30, todos los días" (the patient read 03:32), and so did the dashboard's
-- messages. The bot and the API now drop them before anything is stored or echoed; these
-- triggers hold every writer to it (the dashboard's forms, FHIR imports, PostgREST): medicines'
-- names and doses, appointments' places and clinicians, the clinic's name, a slot offer's texts.
-- BEFORE triggers fire in name order: "..._clean_texts" runs before "..._values_written"
-- (20260101015800), whose limits then hold for the cleaned value.

create or replace function public.medications_clean_texts() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  new.name := public.person_name_clean(new.name);
  new.dose := public.person_name_clean(new.dose);
  return new;
end
$$;
create trigger medications_clean_texts
  before insert or update of name, dose on public.medications
  for each row execute function public.medications_clean_texts();

-- Appointments and slot offers carry the same two texts: one function for both.
create or replace function public.place_and_clinician_clean() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  new.location := public.person_name_clean(new.location);
  new.clinician_name := public.person_name_clean(new.clinician_name);
  return new;
end
$$;
create trigger appointments_clean_texts
  before insert or update of location, clinician_name on public.appointments
  for each row execute function public.place_and_clinician_clean();
create trigger slot_offers_clean_texts
  before insert or update of location, clinician_name on public.slot_offers
  for each row execute function public.place_and_clinician_clean();

create or replace function public.organizations_clean_name() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  new.name := public.person_name_clean(new.name);
  return new;
end
$$;
create trigger organizations_clean_name
  before insert or update of name on public.organizations
  for each row execute function public.organizations_clean_name();

-- Medicines stored before (patients typed them) are cleaned in place, where something shows
-- after and the value fits its limit (one stored longer before the limits is left to the
-- renderer, which shortens it); the clinic's texts stay until they are written again.
update public.medications set name = public.person_name_clean(name)
 where name ~ '[\u202A-\u202E\u2066-\u2069]'
   and btrim(public.person_name_clean(name)) <> ''
   and public.utf16_units(public.person_name_clean(name)) <= 60;
update public.medications set dose = public.person_name_clean(dose)
 where dose ~ '[\u202A-\u202E\u2066-\u2069]'
   and btrim(public.person_name_clean(dose)) <> ''
   and public.utf16_units(public.person_name_clean(dose)) <= 40;
