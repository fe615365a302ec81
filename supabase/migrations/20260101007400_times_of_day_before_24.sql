-- Times of day end at 23:59:59.999999. Postgres's time type also stores '24:00', but Python's
-- datetime.time cannot hold it: asyncpg raises "hour must be in 0..23" decoding such a value. The
-- dashboard's settings form accepted "24:00" for the clinic's default quiet hours (its check was
-- \d{2}:\d{2}), and those columns are read by every dispatcher claim that includes a patient of
-- that clinic: the claim statement had already marked the batch 'processing', then the worker
-- could not read it, so every message of the batch (other clinics' too) waited for the reaper
-- and, claim after claim, failed. The patients' times are read by the planner the same way.
--
-- The dashboard now refuses 24:00 (dashboard/src/lib/time.ts isClockTime); these checks stop it
-- from any writer (PostgREST included). A comparison per written row: organizations and patients
-- are written rarely (settings, onboarding), never on the claim or planning paths.
-- Stored 24:00 values are rewritten to 00:00, the same instant of the day.

update organizations set default_quiet_start = '00:00' where default_quiet_start = '24:00';
update organizations set default_quiet_end = '00:00' where default_quiet_end = '24:00';
alter table organizations
  add constraint organizations_quiet_hours_clock
  check (default_quiet_start < '24:00' and default_quiet_end < '24:00');

update patients set quiet_start = '00:00' where quiet_start = '24:00';
update patients set quiet_end = '00:00' where quiet_end = '24:00';
update patients set wake_time = '00:00' where wake_time = '24:00';
update patients set breakfast_time = '00:00' where breakfast_time = '24:00';
update patients set lunch_time = '00:00' where lunch_time = '24:00';
update patients set dinner_time = '00:00' where dinner_time = '24:00';
update patients set sleep_time = '00:00' where sleep_time = '24:00';
alter table patients
  add constraint patients_times_of_day_clock
  check (quiet_start < '24:00' and quiet_end < '24:00' and wake_time < '24:00'
         and breakfast_time < '24:00' and lunch_time < '24:00' and dinner_time < '24:00'
         and sleep_time < '24:00');
