-- Erasing a patient forgets the API's stored first answers about them.
--
-- A create sent with an Idempotency-Key keeps its first answer in api_idempotency_keys (up to
-- 30 days; medremind/web/api_v1/idempotency.py): for POST /patients the patient's name, phone and
-- e-mail, for POST /messages the text sent to them, for appointments the place. erase_patient
-- removes every row that points at the patient, but these name the patient only inside their
-- JSON, so they stayed, and a replay of the create answered them back ('Idempotent-Replayed:
-- stored'; attack run, session 17). Now the answers that name the erased patient's id go when
-- the patient is erased (erased_at set, by whatever path: the API, the dashboard, the bot's
-- /delete_me, the patient app). A replay then acts anew: a message or an appointment for the
-- erased patient is refused like one for any unknown patient.
--
-- A trigger rather than a line in erase_patient, which later migrations rewrite whole. Its WHEN
-- reads columns only, so other updates of patients never call it. The clinic's stored answers
-- are found by their primary key's organization, then by the id in the text (an id in any
-- field: "id", "patient_id", a FHIR reference): erasures are rare, and a clinic's answers of the
-- last 30 days are few enough to read.
create function public.forget_idempotent_answers_of_erased() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  delete from api_idempotency_keys k
   where k.organization_id = new.organization_id
     and strpos(k.response_body::text, new.id::text) > 0;
  return null;
end
$$;

create trigger patients_erasure_forgets_idempotent_answers
  after update of erased_at on public.patients
  for each row
  when (new.erased_at is not null and old.erased_at is null and new.organization_id is not null)
  execute function public.forget_idempotent_answers_of_erased();
