-- caregiver_links.caregiver_id (migration 20260101014100: the caregiver a pending link replaces)
-- had no index: deleting a caregiver, which sets it null, scanned the whole table for it
-- (tests/integration/test_foreign_key_indexes.py holds every foreign key to an index).
create index if not exists caregiver_links_caregiver_idx
  on public.caregiver_links (caregiver_id) where caregiver_id is not null;
