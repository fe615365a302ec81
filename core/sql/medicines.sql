-- A patient's medicines as the /meds dialog changes them (bot/dialogs/medicines.py).

-- name: cancel_open_doses
-- A medicine deleted or paused ($1) takes every dose still open with it, whenever it was due: a
-- dose reminded and snoozed, or reminded and not yet answered, must not be reminded again,
-- nagged about, marked missed or alerted to a caregiver. Answered doses (taken, skipped) and
-- missed ones are history and stay. Returns nothing; the doses' pending messages are cancelled.
with cancelled as (
  update dose_events set status = 'cancelled'
   where medication_id = $1 and status in ('due', 'snoozed')
  returning id
)
update scheduled_messages set status = 'cancelled'
 where status = 'pending' and dose_event_id in (select id from cancelled)
