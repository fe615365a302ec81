-- Template values at their maxima, by construction (issue 15 item 2). A clinician template's
-- worst-case length is checked at save with each variable at its longest allowed value
-- (core/template_vocabulary.py VARIABLES: names 50, clinic and medicine names 60, dose 40,
-- location 80, in UTF-16 units as SMS and Telegram count them). The write paths accepted up to
-- 200 characters; now every column a variable is filled from holds it to that maximum, whoever
-- writes (API, bot, dashboard, PostgREST). tests/integration/test_template_value_lengths.py reads
-- core.template_vocabulary.STORED_AT and checks each column refuses one unit more.
--
-- NOT VALID: rows written before are not checked (the renderer still shortens a longer stored
-- value with an ellipsis, so the bound holds for them); every new or changed row is.

-- Length in UTF-16 code units: characters outside the Basic Multilingual Plane (emoji) count 2.
create or replace function public.utf16_units(p_text text) returns integer
  language sql immutable strict parallel safe set search_path = pg_catalog as $$
  select char_length(p_text)
       + char_length(regexp_replace(p_text, '[^\U00010000-\U0010FFFF]', '', 'g'))
$$;
grant execute on function public.utf16_units(text) to public;

alter table public.patients
  add constraint patients_display_name_template_max
  check (public.utf16_units(display_name) <= 50) not valid;
alter table public.caregivers
  add constraint caregivers_name_template_max
  check (public.utf16_units(name) <= 50) not valid;
alter table public.organizations
  add constraint organizations_name_template_max
  check (public.utf16_units(name) <= 60) not valid;
alter table public.medications
  add constraint medications_name_template_max
  check (public.utf16_units(name) <= 60) not valid;
alter table public.medications
  add constraint medications_dose_template_max
  check (public.utf16_units(dose) <= 40) not valid;
alter table public.appointments
  add constraint appointments_clinician_name_template_max
  check (public.utf16_units(clinician_name) <= 50) not valid;
alter table public.appointments
  add constraint appointments_location_template_max
  check (public.utf16_units(location) <= 80) not valid;
