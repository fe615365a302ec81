-- A person's name and a medicine's dose are one line too (the rule of migration 20260101019020,
-- core/one_line.py): patients.display_name, caregivers.name, the name a caregiver link carries
-- until the caregiver opens it (caregiver_links.name, copied into caregivers.name then), and
-- medications.dose. The API and the bot refused a dose with a control character, but a
-- clinician's direct write (PostgREST as authenticated) stored one; and the bot took a name
-- holding BEL or an escape sequence (pasted from another program), which then printed nothing or
-- garbage in every greeting, reminder and dashboard row that named the person.
--
-- The same trigger function, on the written value only (a row stored before stays updatable),
-- and the same refusal: SQLSTATE 23514 named <table>_<column>_one_line, no value in it, which
-- the API answers as a 422 on the column and the dashboard as the field's control-character
-- message (lib/errors.ts oneLineRefusal). The patients' and caregivers' cleaning triggers
-- (direction controls, NFC) run first: BEFORE triggers fire in name order, "clean" before "one".
create trigger patients_one_line_written
  before insert or update of display_name on public.patients
  for each row execute function public.one_line_written('display_name');
create trigger caregivers_one_line_written
  before insert or update of name on public.caregivers
  for each row execute function public.one_line_written('name');
create trigger caregiver_links_one_line_written
  before insert or update of name on public.caregiver_links
  for each row execute function public.one_line_written('name');
create trigger medications_one_line_written_dose
  before insert or update of dose on public.medications
  for each row execute function public.one_line_written('dose');

-- Names stored before are copied by two writes the patient does not see fail: merging their own
-- record into the clinic's that has no name yet (merge_patient_rows keeps either name), and a
-- caregiver opening the link the patient sent (the link's name becomes the caregiver's). Each
-- such name is folded onto one line here, each run of line breaks and control characters a
-- space, as a freed slot's offer folds its place (20260101019020). One row at a time: a name
-- that its other rules refuse once folded (it shows nothing without its control characters) is
-- left as it was rather than stopping the migration.
do $$
declare
  target record;
  row_id uuid;
begin
  for target in
    select * from (values ('patients', 'display_name'), ('caregiver_links', 'name')) t (tbl, col)
  loop
    for row_id in execute format('select id from public.%I where public.breaks_a_line(%I)',
                                 target.tbl, target.col)
    loop
      begin
        execute format('update public.%I set %I = public.one_line_folded(%I) where id = $1',
                       target.tbl, target.col, target.col)
          using row_id;
      exception when check_violation then
        null;
      end;
    end loop;
  end loop;
end
$$;
