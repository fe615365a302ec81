-- name: last_inbound_at
-- The latest inbound message from one chat on one channel (served by inbound_messages_chat_idx).
select max(received_at) from inbound_messages where channel = $1 and chat_address = $2
