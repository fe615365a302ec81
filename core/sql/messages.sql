-- Operations on messages shared by the API and the dashboard's database functions.

-- name: resend_message
-- Re-send failed message $1 of clinic $2 as actor $3, due at $4 (migration
-- 20260101009310: a new pending copy with resent_from; the failed row keeps its history).
select outcome, message_id, status from public.resend_message($1, $2, $3, $4)

-- name: scrub_spent_link
-- A spent link ($2: its marker and token as the text holds them, '/app/#sign-in=<token>' or
-- '?start=cg_<token>') leaves every service notice of patient $1 holding it, which reads $3
-- instead: a sign-in request's notice and the bot's /app answer, the bot's caregiver link and
-- the worker's relink offer. The clinic reads such a message once its link is spent (migrations
-- 20260101015400 and 20260101015570 hide it before: public.message_holds_live_link).
update scheduled_messages set message_content = $3
 where patient_id = $1 and kind = 'system' and strpos(message_content, $2) > 0
