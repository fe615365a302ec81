-- Operations on messages shared by the API and the dashboard's database functions.

-- name: resend_message
-- Re-send failed message $1 of clinic $2 as actor $3, due at $4 (migration
-- 20260101009310: a new pending copy with resent_from; the failed row keeps its history).
select outcome, message_id, status from public.resend_message($1, $2, $3, $4)
