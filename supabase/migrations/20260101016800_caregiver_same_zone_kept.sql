-- A caregiver who is "Same as mine" (caregivers.timezone null) followed the patient's CURRENT
-- zone: when the patient travelled ('follow me' mode, or a zone typed while away), the
-- caregiver's night moved with them, and a missed-dose alert could wake the caregiver at 1 a.m.
-- at home, or wait for the night of a country they are not in. The caregiver stays at home: the
-- bot now stores the patient's home zone when "Same as mine" is chosen (core/sql/bot.sql:
-- patient_home_zone), and the rows stored null before get the same, the patient's home zone
-- (home_timezone, else the zone they are in) as it is now. Where the database does not know that
-- zone (Etc/Unknown) the row stays null: the dispatcher reads the patient's, as before.
--
-- The update of timezone fires caregivers_quiet_window_changed (migration 20260101015310): the
-- alerts already waiting out a night are judged again by the caregiver's kept zone.

update caregivers c
   set timezone = coalesce(p.home_timezone, p.timezone)
  from patients p
 where p.id = c.patient_id
   and c.timezone is null
   and public.is_iana_timezone(coalesce(p.home_timezone, p.timezone));

comment on column caregivers.timezone is
  'IANA timezone of the caregiver for quiet hours ("Same as mine" stores the patient''s home zone'
  ' when chosen, kept when the patient travels); null only where that zone was unknown: the'
  ' patient''s timezone.';
