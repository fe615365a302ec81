-- An insert of patients, and an insert or a delete of contact points, refreshes the reachability
-- of its patients once per statement, not once per row (20260101013300 contact_points_reachability,
-- patients_reachability).
--
-- refresh_patient_reachability's statement takes its patients as a parameter; its generic plan
-- is costed far above a custom one (an array of unknown length), so each call planned its
-- six-CTE statement again: ~1 ms per row, nearly all of it in the planner. An import of
-- 100,000 patients (the API, the dashboard, FHIR) and their contact points spent minutes per
-- statement in these row triggers (bench/import_patients.py). Now one call per statement with
-- every patient of its rows: one plan, set-based joins.
--
-- Same result: the function derives each patient's state from the tables alone, and a row
-- trigger already ran after the whole statement's rows were in place (AFTER ROW events fire at
-- the statement's end), so the per-row calls each saw what the one call sees. The update
-- triggers (a channel order changed, a patient linked, a contact point's usability changed)
-- keep their per-row WHEN conditions: they fire for the few rows that change.

create function public.contact_points_reachability_of_statement() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'INSERT' then
    perform public.refresh_patient_reachability(
      array(select distinct n.patient_id from new_rows n where n.patient_id is not null));
  else
    perform public.refresh_patient_reachability(
      array(select distinct o.patient_id from old_rows o where o.patient_id is not null));
  end if;
  return null;
end
$$;
revoke all on function public.contact_points_reachability_of_statement()
  from public, anon, authenticated;

create function public.patients_reachability_of_statement() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.refresh_patient_reachability(array(select n.id from new_rows n));
  return null;
end
$$;
revoke all on function public.patients_reachability_of_statement()
  from public, anon, authenticated;

-- Transition tables need one trigger per event.
drop trigger contact_points_reachability_added on public.contact_points;
create trigger contact_points_reachability_added after insert on public.contact_points
  referencing new table as new_rows
  for each statement execute function public.contact_points_reachability_of_statement();
create trigger contact_points_reachability_removed after delete on public.contact_points
  referencing old table as old_rows
  for each statement execute function public.contact_points_reachability_of_statement();

drop trigger patients_reachability_added on public.patients;
create trigger patients_reachability_added after insert on public.patients
  referencing new table as new_rows
  for each statement execute function public.patients_reachability_of_statement();
