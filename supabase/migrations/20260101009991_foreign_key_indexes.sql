-- Every foreign key's referencing columns lead an index (tests/integration/test_foreign_key_indexes.py
-- walks the catalog so a future table cannot miss one). Without it, deleting a referenced row (the
-- worker's retention deletes, a patient's erasure, a cascade) scans the whole referencing table per
-- row: retention's delete of old messages scanned every conversation question once per message.
-- Nullable columns get partial indexes: a foreign key lookup asks for a value, never for null, and
-- rows without one (most scheduled messages have no caregiver) cost nothing to write.

create index if not exists api_keys_organization_idx on public.api_keys (organization_id);
create index if not exists clinic_admin_tokens_clinician_idx on public.clinic_admin_tokens (clinician_id);
create index if not exists clinic_admin_tokens_organization_idx
  on public.clinic_admin_tokens (organization_id);
create index if not exists conversation_questions_message_idx
  on public.conversation_questions (message_id) where message_id is not null;
create index if not exists dose_events_medication_idx on public.dose_events (medication_id)
  where medication_id is not null;
create index if not exists patient_invites_organization_idx on public.patient_invites (organization_id);
create index if not exists scheduled_messages_caregiver_idx on public.scheduled_messages (caregiver_id)
  where caregiver_id is not null;
create index if not exists slot_offer_recipients_entry_idx on public.slot_offer_recipients (entry_id)
  where entry_id is not null;
create index if not exists slot_offers_booked_appointment_idx
  on public.slot_offers (booked_appointment_id) where booked_appointment_id is not null;
create index if not exists slot_offers_organization_idx on public.slot_offers (organization_id);
create index if not exists waitlist_entries_booked_appointment_idx
  on public.waitlist_entries (booked_appointment_id) where booked_appointment_id is not null;
create index if not exists webhook_deliveries_organization_idx
  on public.webhook_deliveries (organization_id);
create index if not exists websocket_deliveries_message_idx on public.websocket_deliveries (message_id);
