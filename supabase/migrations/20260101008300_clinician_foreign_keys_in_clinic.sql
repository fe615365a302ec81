-- A clinician's schedule or dose event must name a medication (and schedule) of its own patient.
--
-- The policies of these tables checked patient_id only, and the rows carry more foreign keys:
-- through PostgREST (every signed-in clinician has it, as role authenticated under these same
-- policies) a clinician could insert a dose event of their own patient for another clinic's
-- medication or schedule, or a schedule for another clinic's medication. The dispatcher then
-- renders that clinic's medicine name into the reminder (which the forging clinic reads back on
-- the message), and a Taken counts down the other clinic's pills.
--
-- With 20260101007500 (invites, appointments, messages) every foreign key a clinician can set now
-- points inside the clinic; tests/integration/test_clinic_foreign_keys.py checks each one, as the
-- catalog lists them, so a table added later is checked too.
--
-- Only the clinicians' policies change: the service role's (worker, web, bot) is untouched, so the
-- planner's hot path pays nothing. A clinician's write pays one or two primary-key lookups a row.

alter policy reminder_schedules_clinician on reminder_schedules
  with check (public.patient_in_my_organization(patient_id)
              and exists (select 1 from public.medications m
                           where m.id = medication_id
                             and m.patient_id = reminder_schedules.patient_id));

alter policy dose_events_clinician on dose_events
  with check (public.patient_in_my_organization(patient_id)
              and exists (select 1 from public.medications m
                           where m.id = medication_id and m.patient_id = dose_events.patient_id)
              and exists (select 1 from public.reminder_schedules s
                           where s.id = schedule_id
                             and s.patient_id = dose_events.patient_id
                             and s.medication_id = dose_events.medication_id));

-- An invite's invitee (20260101008100) is set by public.invite_address_owner (the service), for
-- a record a clinician cannot see; a clinician's own invite names none, or a patient of their
-- clinic (the patients policy decides what the subquery sees).
alter policy patient_invites_clinician on patient_invites
  with check (organization_id = public.current_organization_id()
              and public.patient_in_my_organization(patient_id)
              and (invitee_patient_id is null
                   or exists (select 1 from public.patients p where p.id = invitee_patient_id)));
