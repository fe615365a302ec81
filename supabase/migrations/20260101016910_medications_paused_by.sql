-- Who paused a medicine: 'fhir' when the clinic's EHR put its MedicationRequest on hold
-- (medremind/web/api_v1/medication_hold.py), null for the patient's /meds pause (or none). The
-- EHR's `active` resumes only what the EHR paused: its nightly sync resends every active request,
-- and would otherwise undo each pause the patient made themselves.
alter table public.medications add column paused_by text check (paused_by in ('fhir'));

-- A status change that does not say who made it (the bot's /meds, the dashboard) clears the mark:
-- a medicine the patient resumed and paused again is theirs, not the EHR's.
create function public.medication_paused_by() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  if new.status is distinct from old.status and new.paused_by is not distinct from old.paused_by
  then
    new.paused_by := null;
  end if;
  return new;
end
$$;
create trigger medications_paused_by before update of status on medications
  for each row execute function public.medication_paused_by();
