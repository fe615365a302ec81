-- A final dose answer (scheduler/dose_answers.py) in one statement: the patient is waiting.

-- name: record_final_answer
-- Lock the dose; unless a final answer stands, record this one ($2 taken or skipped, at $3, over
-- channel $4), cancel what is still pending for the dose (last_error $5), count pills down for
-- taken. Returns the dose as it was before, the pill count after, the medication's name and
-- whether anything changed; no row for an unknown dose, or for another patient's when $6 names
-- the patient (null: any patient). The rules are in the function (migration 20260101007000),
-- which the one-round-trip button turn (answer_dose_button) calls too.
select status, medication_id, snoozed_until, medication_name, pill_count, changed
  from record_final_dose_answer($1, $2, $3, $4, $5, $6)


-- name: answer_dose_button_reply
-- A Taken or Skip pressed on a reminder, the whole turn in one round trip when the general turn
-- would do nothing else, its reply stored as a leased row in the same statement (function
-- answer_dose_button_reply, migration 20260101010400; a dose of another day than $4's, or a chat
-- marked blocked, is left to the general turn, migration 20260101014800): $1 the stored update,
-- $2 the dose, $3 taken or skipped, $4 the turn's time, $5 the bot's locales, $6 the reply texts
-- per locale (JSON, bot/button_turn.py), $7 the lease holder, $8 the lease in seconds, $9 the
-- reply's lifetime in seconds, $10 the reply row's payload.
select outcome, channel, chat_address, medication_name, reply_id, lease_token, reply_text, edit
  from answer_dose_button_reply($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9, $10)
