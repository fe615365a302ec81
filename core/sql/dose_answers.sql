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
-- answer_dose_button_reply, migration 20260101010400; a dose of another day than $4's is left to
-- the general turn, whose reply names its day, migration 20260101014800): $1 the stored update, $2 the dose, $3
-- taken or skipped, $4 the turn's time, $5 the bot's locales, $6 the reply texts per locale (JSON,
-- bot/button_turn.py), $7 the lease holder, $8 the lease in seconds, $9 the reply's lifetime in
-- seconds, $10 the reply row's payload.
-- A chat marked blocked (a provider's permanent refusal) is left to the general turn, untouched:
-- its press lifts the block, and when no channel reached the patient meanwhile the general turn
-- first runs the planner's pass of the spell (bot/engine.py _catch_up_while_unreachable), or a
-- dose missed while unreachable alerted the caregiver at the next pass. The function lifted the
-- block without it. `held` is computed first and gates the function as a one-time filter (a
-- condition naming none of its columns), so the function does not run for such a chat.
with held as (
  select exists (
    select from inbound_messages i
      join contact_points cp on cp.channel = i.channel and cp.address = i.chat_address
     where i.id = $1 and cp.blocked_at is not null) as blocked
)
select outcome, channel, chat_address, medication_name, reply_id, lease_token, reply_text, edit
  from answer_dose_button_reply($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9, $10)
 where not (select blocked from held)
union all
select 'general', null, null, null, null, null, null, false
 where (select blocked from held)
