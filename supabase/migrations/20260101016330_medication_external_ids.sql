-- A medicine imported from a FHIR MedicationRequest keeps the request's id (external_id), and
-- one patient holds one live medicine per id.
--
-- POST /api/v1/fhir/MedicationRequest ignored the resource's id: an EHR that sent the same
-- prescription twice (a retry after a lost answer without Idempotency-Key, a nightly sync)
-- created a second medicine and a second schedule, and the patient was reminded of every dose
-- twice, two doses to answer for one pill (found by hand over the API). The API now answers a
-- repeated id with a 409 naming the medicine it made (medremind/web/api_v1/fhir.py); the index
-- holds two imports at once to it too. A deleted medicine frees its id (a new prescription may
-- come under it). Rows stored before have no id: nothing to match them on.

alter table public.medications
  add column external_id text
  check (external_id is null or (length(external_id) between 1 and 64));

create unique index medications_external_id_key
  on public.medications (patient_id, external_id)
  where external_id is not null and status <> 'deleted';

comment on column public.medications.external_id is
  'The id of the FHIR MedicationRequest it was imported from (POST /api/v1/fhir/'
  'MedicationRequest); one live medicine per id and patient.';
