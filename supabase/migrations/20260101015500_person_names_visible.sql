-- Names of people (patients.display_name): one rule with core/person_names.py, whose docstring
-- says why; tests/integration/test_person_names.py compares the two over every code point.
--
-- person_name_clean removes the direction controls that have a scope (embeddings, overrides,
-- isolates): an unterminated U+202E reversed whatever followed the name in a reminder or a
-- dashboard row. A trigger cleans every write, so the dashboard's form, the API, the bot and
-- imports store the same name. person_name_visible refuses a name made only of spaces and
-- invisible characters (zero-width, direction marks, Hangul fillers): it showed as nothing.
-- Callable by the roles that write patients (a check runs as the writer), as utf16_units: anon
-- may call no function (20260101009130). Code point ranges, not character classes: [[:alpha:]] and its kin follow the database's
-- collation, which may know ASCII only.

create or replace function public.person_name_clean(p_name text) returns text
  language sql immutable strict parallel safe set search_path = pg_catalog as $$
  select regexp_replace(p_name, '[\u202A-\u202E\u2066-\u2069]', '', 'g')
$$;
revoke all on function public.person_name_clean(text) from public;
grant execute on function public.person_name_clean(text) to authenticated, medremind_app, service_role;

create or replace function public.person_name_visible(p_name text) returns boolean
  language sql immutable strict parallel safe set search_path = pg_catalog as $$
  select p_name ~ '[^\u0000-\u0020\u007F-\u00A0\u00AD\u034F\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2\u115F-\u1160\u1680\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u2800\u3000\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\U000110BD\U000110CD\U00013430-\U00013438\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001\U000E0020-\U000E007F\U000E0100-\U000E01EF]'
$$;
revoke all on function public.person_name_visible(text) from public;
grant execute on function public.person_name_visible(text) to authenticated, medremind_app, service_role;

create or replace function public.patients_clean_display_name() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  new.display_name := public.person_name_clean(new.display_name);
  return new;
end
$$;

create trigger patients_clean_display_name
  before insert or update of display_name on public.patients
  for each row execute function public.patients_clean_display_name();

-- Not valid: a name stored before stays until it is written again (then it must show).
alter table public.patients
  add constraint patients_display_name_visible
  check (public.person_name_visible(display_name)) not valid;
