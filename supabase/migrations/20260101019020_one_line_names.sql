-- A name filled into one line of a message holds no line break or control character, for every
-- writer: a clinic's name, a medicine's name, a template's name, an appointment's place and
-- clinician. The API and the dashboard's forms refuse one first (core/one_line.py,
-- dashboard/src/lib/control-characters.ts), but a clinician's direct write (PostgREST as
-- authenticated, as the dashboard connects) stored a clinic named "Sunrise", a line break and
-- "Reply STOP to ...", and that second line then rendered into its patients' SMS and e-mail as
-- though the message said it.
--
-- The rule is core/one_line.py's: C0 controls (tab, line feed, carriage return among them), DEL,
-- C1 controls (NEL among them), U+2028 and U+2029. Format characters stay: right-to-left names
-- need their direction marks, emoji sequences their joiners.
--
-- A trigger on the writes that set the value, as migration 20260101015800 made the other
-- written-value rules (a NOT VALID CHECK is checked against the whole new row of every update):
-- a row stored before keeps its name and can still be paused, confirmed or renamed. The refusal
-- is SQLSTATE 23514 with the constraint name <table>_<column>_one_line and no value in it; the
-- API answers it as a 422 naming the field (medremind/web/api_v1/one_line_refusal.py), the
-- dashboard as the field's control-character message (lib/errors.ts oneLineRefusal).

create or replace function public.breaks_a_line(p_value text) returns boolean
  language sql immutable parallel safe set search_path = pg_catalog as $$
  select p_value ~ '[\x01-\x1f\x7f-\x9f\u2028\u2029]'
$$;
grant execute on function public.breaks_a_line(text) to authenticated, medremind_app, service_role;

-- TG_ARGV: the one-line columns of the table. Only a value the write sets is checked.
create or replace function public.one_line_written() returns trigger
  language plpgsql set search_path = pg_catalog as $$
declare
  col text;
  new_value text;
  old_value text;
begin
  foreach col in array tg_argv loop
    new_value := to_jsonb(new) ->> col;
    if tg_op = 'UPDATE' then
      old_value := to_jsonb(old) ->> col;
      continue when new_value is not distinct from old_value;
    end if;
    if public.breaks_a_line(new_value) then
      perform public.refuse_written_value(tg_table_name, tg_table_name || '_' || col || '_one_line');
    end if;
  end loop;
  return new;
end
$$;
revoke all on function public.one_line_written() from public;

create trigger organizations_one_line_written
  before insert or update of name on public.organizations
  for each row execute function public.one_line_written('name');
create trigger medications_one_line_written
  before insert or update of name on public.medications
  for each row execute function public.one_line_written('name');
create trigger message_templates_one_line_written
  before insert or update of name on public.message_templates
  for each row execute function public.one_line_written('name');
create trigger appointments_one_line_written
  before insert or update of location, clinician_name on public.appointments
  for each row execute function public.one_line_written('location', 'clinician_name');

-- A freed slot's offer copies the cancelled appointment's place and clinician (create_offer,
-- core/sql/waitlist.sql), and the patient's Yes copies them into the appointment it books
-- (public.accept_slot_offer): a place stored on two lines before this rule would have made that
-- booking fail. An offer holds them on one line instead, each run of line breaks and control
-- characters a space: the offer's message shows them so, and the booking takes them.
create or replace function public.one_line_folded(p_value text) returns text
  language sql immutable parallel safe set search_path = pg_catalog as $$
  select btrim(regexp_replace(p_value, '[\x01-\x1f\x7f-\x9f\u2028\u2029]+', ' ', 'g'))
$$;

create or replace function public.slot_offers_one_line() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  new.location := public.one_line_folded(new.location);
  new.clinician_name := public.one_line_folded(new.clinician_name);
  return new;
end
$$;
revoke all on function public.slot_offers_one_line() from public;
create trigger slot_offers_one_line
  before insert or update of location, clinician_name on public.slot_offers
  for each row execute function public.slot_offers_one_line();

update public.slot_offers set location = location, clinician_name = clinician_name
 where status = 'open'
   and (public.breaks_a_line(location) or public.breaks_a_line(clinician_name));
