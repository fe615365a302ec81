-- Caregivers saved before migration 20260101011510 keep their missed-dose alerts.
--
-- 20260101011510 holds the SMS/WhatsApp alerts of a caregiver that a patient of no clinic typed
-- until the number has written to the service (proven_at), and tells the patient so when the
-- caregiver is saved. A caregiver saved before that rule was never asked to write, and neither
-- the patient nor the caregiver would be told their alerts had stopped: a missed dose that nobody
-- hears about is the harm the alerts exist to prevent. Those numbers were named under the old
-- rule and keep it; every caregiver saved from now on proves its number first.
--
-- On a new database this runs in the same migrate as 20260101011510 and finds no rows.
update caregivers
   set proven_at = created_at
 where proven_at is null
   and channel in ('sms', 'whatsapp');
