-- An external id (the clinic's own system's id of a patient, an appointment, a medicine's FHIR
-- MedicationRequest) must show something, for every writer. One of a zero-width space alone
-- was stored through the API and the dashboard's New patient: shown blank, typeable nowhere,
-- though a FHIR reference Patient/<id> still found the record. The API refuses it first
-- (medremind/web/api_v1/fields.py, visible); the dashboard maps the refusal to its form.
--
-- A trigger on the writes that set the value, as migration 20260101015800 made the other
-- written-value rules: a row stored before keeps its id and can still be updated otherwise.
-- SQLSTATE 23514 with the constraint name <table>_external_id_visible.

create or replace function public.external_id_written() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  if new.external_id is null
     or (tg_op = 'UPDATE' and new.external_id is not distinct from old.external_id) then
    return new;
  end if;
  if not public.person_name_visible(new.external_id) then
    perform public.refuse_written_value(tg_table_name, tg_table_name || '_external_id_visible');
  end if;
  return new;
end
$$;
revoke all on function public.external_id_written() from public;

create trigger patients_external_id_written
  before insert or update of external_id on public.patients
  for each row execute function public.external_id_written();
create trigger appointments_external_id_written
  before insert or update of external_id on public.appointments
  for each row execute function public.external_id_written();
create trigger medications_external_id_written
  before insert or update of external_id on public.medications
  for each row execute function public.external_id_written();
