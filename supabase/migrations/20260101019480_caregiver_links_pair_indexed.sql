-- The foreign key of migration 20260101019460 (a link's caregiver is one of its own patient's:
-- caregiver_links (patient_id, caregiver_id) references caregivers (patient_id, id)) gets the
-- index every foreign key has (tests/integration/test_foreign_key_indexes.py): a caregiver's
-- deletion or a merge's move checks the links by the pair, not by a scan of every link.
create index caregiver_links_by_patient_caregiver
  on public.caregiver_links (patient_id, caregiver_id);
