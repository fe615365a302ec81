-- The API roles get in public exactly what the migrations grant them, on Supabase as elsewhere.
--
-- Supabase sets default privileges for the role that runs migrations (postgres) in schema public:
-- every table, sequence and function it creates is granted ALL to anon and authenticated (the
-- PostgREST roles). The migrations were written against PostgreSQL's defaults (nothing to those
-- roles, EXECUTE on functions to PUBLIC, revoked where it matters) and tested on a server without
-- Supabase's, so on Supabase:
-- - anon (anyone with the project's public key) could call every function through /rest/v1/rpc,
--   among them the SECURITY DEFINER ones that skip row-level security: emit_webhook_event
--   (a clinic's integrator receives an event, signed with the clinic's secret, that nobody
--   raised), accept_slot_offer, invite_address_owner (whose clinic check holds for clinicians
--   only);
-- - a clinician had every column of every table where the migrations grant some: the patient's
--   own choice in patient_preferences (patient_choice, which only the patient may change: a clinic
--   could undo a patient's opt-out of a category), the sealed secrets of clinic_provider_accounts
--   and webhook_subscriptions, writes to tables meant to be read-only (row policies still held
--   those), and every service-only function (the dose answer, merge_patient, erase_patient).
-- tests/integration/test_supabase_default_grants.py migrates a database with Supabase's default
-- privileges and checks that anon and authenticated hold the same privileges as without them.

-- Objects created from here on get no automatic grants to the API roles (for the migrating role;
-- a no-op where no such defaults exist).
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke all on functions from anon, authenticated;

-- Existing objects: anon gets nothing, authenticated what the migrations granted it.
revoke all on all tables in schema public from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;
revoke all on all functions in schema public from anon, authenticated;

grant select, update on public.api_keys to authenticated;
grant delete, insert, select, update on public.appointments to authenticated;
grant select on public.audit_log to authenticated;
grant delete, insert, select, update on public.caregivers to authenticated;
grant select on public.clinicians to authenticated;
grant delete, insert, select, update on public.contact_points to authenticated;
grant delete, insert, select, update on public.dose_events to authenticated;
grant delete, insert, select, update on public.medications to authenticated;
grant select on public.message_delivery_attempts to authenticated;
grant delete, insert, select, update on public.message_templates to authenticated;
grant select, update on public.organizations to authenticated;
grant delete, insert, select, update on public.patient_invites to authenticated;
grant select on public.patient_preferences to authenticated;
grant delete, insert, select, update on public.patients to authenticated;
grant delete, select on public.push_subscriptions to authenticated;
grant delete, insert, select, update on public.reminder_schedules to authenticated;
grant delete, insert, select, update on public.scheduled_messages to authenticated;
grant select on public.service_limits to authenticated;
grant select on public.slot_offer_recipients to authenticated;
grant select on public.slot_offers to authenticated;
grant select on public.telegram_paid_usage to authenticated;
grant delete, insert, select, update on public.waitlist_entries to authenticated;
grant select on public.webhook_deliveries to authenticated;
grant select on public.webhook_delivery_attempts to authenticated;
grant select on public.webhook_events to authenticated;
grant insert (category, channel, clinic_choice, clinic_chose_at, clinic_chose_by, patient_id) on public.patient_preferences to authenticated;
grant select (channel, config, created_at, id, inbound_number, messaging_service_sid, organization_id, secret_hint, updated_at, updated_by, validated_at) on public.clinic_provider_accounts to authenticated;
grant select (created_at, description, disabled_at, event_types, id, organization_id, url) on public.webhook_subscriptions to authenticated;
grant update (channel, clinic_choice, clinic_chose_at, clinic_chose_by) on public.patient_preferences to authenticated;

grant execute on function public.audit_actor() to authenticated;
grant execute on function public.clinic_paid_broadcast(p_org uuid, p_from timestamp with time zone, p_to timestamp with time zone) to authenticated;
grant execute on function public.clinic_statistics(p_org uuid, p_from timestamp with time zone, p_to timestamp with time zone) to authenticated;
grant execute on function public.conversation_of_my_patient(p_conversation uuid, p_patient uuid) to authenticated;
grant execute on function public.current_clinician_is_admin() to authenticated;
grant execute on function public.current_organization_id() to authenticated;
grant execute on function public.early_send_seconds_valid(windows jsonb) to authenticated;
grant execute on function public.invite_address_owner(p_patient uuid, p_channel text, p_address text, p_at timestamp with time zone, p_verified boolean) to authenticated;
grant execute on function public.is_iana_timezone(zone text) to authenticated;
grant execute on function public.issue_clinic_admin_token() to authenticated;
grant execute on function public.message_category(p_kind text, p_payload jsonb) to authenticated;
grant execute on function public.message_of_patient(p_message uuid, p_patient uuid) to authenticated;
grant execute on function public.patient_in_my_organization(p_patient_id uuid) to authenticated;
grant execute on function public.patient_opted_out(p_patient uuid, p_category text) to authenticated;
grant execute on function public.preference_opted_out(p_patient_choice text, p_clinic_choice text) to authenticated;
grant execute on function public.request_erasure(p_patient uuid) to authenticated;
grant execute on function public.resend_message(p_message uuid, p_organization uuid, p_actor text, p_at timestamp with time zone) to authenticated;
grant execute on function public.set_time_critical(p_medication uuid, p_patient uuid, p_critical boolean) to authenticated;
grant execute on function public.utf16_units(p_text text) to authenticated;
