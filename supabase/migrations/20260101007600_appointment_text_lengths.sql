-- An appointment's place and clinician name go into each of its reminders; the API and the
-- dashboard accept up to 200 characters, and now so does the table, whoever writes (PostgREST
-- included). NOT VALID: rows written before are not checked (a longer one still renders; the
-- sender splits or refuses it by its own limits), every new or changed row is.
alter table appointments
  add constraint appointments_text_lengths
  check (length(location) <= 200 and length(clinician_name) <= 200) not valid;
