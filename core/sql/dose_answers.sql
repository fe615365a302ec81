-- A final dose answer (scheduler/dose_answers.py) in one statement: the patient is waiting.

-- name: record_final_answer
-- Lock the dose; unless a final answer stands, record this one ($2 taken or skipped, at $3, over
-- channel $4), cancel what is still pending for the dose (last_error $5; rows a worker has
-- claimed are left to its lease) and, for taken, count whole pills down (a fractional dose rounds
-- up, never below zero, only when a count is kept). Returns the dose as it was before, the pill
-- count after, the medication's name, and whether anything changed; no row for an unknown dose,
-- or for another patient's when $6 names the patient (null: any patient).
with dose as (
  select d.id, d.status, d.medication_id, d.snoozed_until, m.pill_count, m.name
    from dose_events d
    join medications m on m.id = d.medication_id
   where d.id = $1 and ($6::uuid is null or d.patient_id = $6::uuid)
     for update of d
), answered as (
  update dose_events e
     set status = $2, answered_at = $3, answered_channel = $4
    from dose
   where e.id = dose.id and dose.status not in ('taken', 'skipped')
  returning e.id
), cancelled as (
  update scheduled_messages s
     set status = 'cancelled', last_error = $5
    from answered
   where s.dose_event_id = answered.id and s.status = 'pending'
), pills as (
  update medications m
     set pill_count = greatest(0, m.pill_count - ceil(m.pills_per_dose)::integer)
    from dose, answered
   where m.id = dose.medication_id and $2::text = 'taken' and m.pill_count is not null
  returning m.pill_count
)
select dose.status, dose.medication_id, dose.snoozed_until, dose.name as medication_name,
       coalesce((select pill_count from pills), dose.pill_count) as pill_count,
       exists (select from answered) as changed
  from dose
