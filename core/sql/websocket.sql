-- name: offer_delivery
-- A delivery for the patient of websocket contact point $1, only when the app is open somewhere
-- (a connection seen within $3 seconds); wakes the web processes. No row: the patient is offline.
with target as (
  select cp.patient_id
    from contact_points cp
   where cp.channel = 'websocket' and cp.address = $1
     and exists (select 1 from patient_app_connections c
                  where c.patient_id = cp.patient_id
                    and c.seen_at > now() - make_interval(secs => $3))
   limit 1
), offered as (
  insert into websocket_deliveries (patient_id, message_id, payload)
  select patient_id, $4, $2 from target
  returning id
)
select id, pg_notify('medremind_websocket', '') from offered

-- name: delivery_state
select delivered_at from websocket_deliveries where id = $1

-- name: withdraw_delivery
delete from websocket_deliveries where id = $1

-- name: open_connection
insert into patient_app_connections (patient_id) values ($1) returning id

-- name: close_connection
delete from patient_app_connections where id = $1

-- name: heartbeat
-- The web's open sockets are alive; connections of processes that died expire on their own.
update patient_app_connections set seen_at = now() where id = any($1::uuid[])

-- name: forget_stale_connections
delete from patient_app_connections where seen_at < now() - make_interval(secs => $1)

-- name: pending_deliveries
-- Offers for patients with a socket on this web process that nobody acknowledged yet.
select id, patient_id, payload
  from websocket_deliveries
 where patient_id = any($1::uuid[]) and delivered_at is null
   and created_at > now() - interval '1 minute'
 order by created_at

-- name: acknowledge_delivery
-- The browser showed it: mark the offer (the worker waits for this) and record the delivery on
-- the message, as a provider's delivery receipt is.
with acked as (
  update websocket_deliveries
     set delivered_at = now()
   where id = $1 and patient_id = $2 and delivered_at is null
  returning id, message_id, delivered_at
), on_message as (
  update scheduled_messages m
     set delivered_at = coalesce(m.delivered_at, a.delivered_at)
    from acked a
   where m.id = a.message_id
  returning m.id
)
insert into message_delivery_attempts (message_id, status, channel, provider_message_id)
select a.message_id, 'delivered', 'websocket', 'ws:' || a.id
  from acked a where a.message_id is not null

-- name: lock_patient_for_app_socket
-- A patient's socket handshakes take their patient in turn (held to the end of the transaction).
-- Tabs opened at once ran the contact point's upsert, the channel order's update (both firing
-- the patient's reachability triggers) and the connection's insert concurrently for one patient,
-- and handshakes already admitted failed: their sockets closed with no close frame, their rows
-- gone (tests/web/test_slow_clients.py's socket limit failed 5 of 6 runs, passes 6 of 6 since).
-- NO KEY UPDATE: other tables' inserts naming the patient are not blocked by it.
select id from patients where id = $1 for no key update
