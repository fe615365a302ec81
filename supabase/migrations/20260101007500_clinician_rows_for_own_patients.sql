-- A clinician's invite, appointment or message must name a patient of the clinician's own clinic.
--
-- The policies checked organization_id only, and the rows carry a patient_id too. The dashboard
-- never pairs them wrongly (it takes the organization from the patient row it can see), but a
-- clinician writing through PostgREST (Supabase lets every signed-in clinician do so, as role
-- authenticated under these same policies) could insert a row of their own clinic naming another
-- clinic's patient, and every reader trusts the pair: the bot redeems an invite for its
-- patient_id (the redeeming chat becomes that patient's contact point and receives their
-- reminders), the planner sends an appointment's confirmation and reminders to its patient, the
-- worker sends a message to its patient and stores the rendered text (name, medicine) on a row
-- the forging clinic can read.
--
-- Only the clinicians' policies change: the service role's (worker, web, bot) is untouched, so
-- the planner's and dispatcher's hot paths pay nothing. A clinician's write pays one primary-key
-- lookup of the patient per row (measured on the embedded server: the dashboard's group message
-- to 2,000 patients, median of 5, 94 -> 137-140 ms; one message or appointment: one lookup).

alter policy patient_invites_clinician on patient_invites
  with check (organization_id = public.current_organization_id()
              and public.patient_in_my_organization(patient_id));

alter policy appointments_clinician on appointments
  with check (organization_id = public.current_organization_id()
              and public.patient_in_my_organization(patient_id));

-- A message's caregiver, dose and appointment are its patient's too: the dispatcher sends a
-- caregiver alert to the caregiver's address and renders the dose's medicine and the
-- appointment's place into the text. The dashboard sets none of them (null costs nothing).
alter policy scheduled_messages_clinician on scheduled_messages
  with check (organization_id = public.current_organization_id()
              and public.patient_in_my_organization(patient_id)
              and (caregiver_id is null or exists (
                    select 1 from caregivers c
                     where c.id = caregiver_id and c.patient_id = scheduled_messages.patient_id))
              and (dose_event_id is null or exists (
                    select 1 from dose_events d
                     where d.id = dose_event_id and d.patient_id = scheduled_messages.patient_id))
              and (appointment_id is null or exists (
                    select 1 from appointments a
                     where a.id = appointment_id and a.patient_id = scheduled_messages.patient_id)));
