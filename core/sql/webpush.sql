-- name: active_subscriptions
-- The live devices of a webpush contact point, newest first (a reinstalled app's subscription
-- is likelier to work than the one it replaced).
select s.id, s.endpoint, s.p256dh, s.auth
  from push_subscriptions s
  join contact_points c on c.id = s.contact_point_id
 where c.channel = 'webpush' and c.address = $1 and s.retired_at is null
 order by s.created_at desc
 limit 20

-- name: retire_subscription
update push_subscriptions
   set retired_at = coalesce(retired_at, now()), retire_reason = $2
 where id = $1

-- name: subscriptions_succeeded
update push_subscriptions set last_success_at = now() where id = any($1::uuid[])

-- name: ensure_app_contact
-- The patient's contact point of a browser channel ($2: 'webpush' or 'websocket'), created with
-- a new opaque address ($3) when missing and made usable again when it was deactivated.
with existing as (
  update contact_points
     set active = true, blocked_at = null, last_error = null
   where id = (select id from contact_points
                where patient_id = $1 and channel = $2
                order by created_at limit 1)
  returning id, address
), created as (
  insert into contact_points (patient_id, channel, address, verified)
  select $1, $2, $3, true
   where not exists (select 1 from existing)
  returning id, address
)
select id, address from existing
union all
select id, address from created

-- name: put_subscription
-- A browser's subscription for the contact point; the same endpoint again (a refreshed key, the
-- same device signing in as another patient) replaces what was stored for it.
insert into push_subscriptions (contact_point_id, endpoint, p256dh, auth, device_label)
values ($1, $2, $3, $4, $5)
on conflict (endpoint) do update
   set contact_point_id = excluded.contact_point_id, p256dh = excluded.p256dh,
       auth = excluded.auth, device_label = excluded.device_label,
       created_at = now(), retired_at = null, retire_reason = null
returning id

-- name: remove_subscription
-- The browser unsubscribed (or the patient turned notifications off in the app).
update push_subscriptions s
   set retired_at = coalesce(s.retired_at, now()), retire_reason = 'unsubscribed in the app'
  from contact_points c
 where s.endpoint = $2 and c.id = s.contact_point_id and c.patient_id = $1

-- name: put_channel_first
-- Put channel $2 at the front of the patient's channel order ($3: after this channel, if present).
update patients
   set channel_order = (
     case when $3::text is not null and $3::text = any(channel_order)
          then array_remove(channel_order[1:array_position(channel_order, $3::text)], $2::text)
               || array[$2::text]
               || array_remove(channel_order[array_position(channel_order, $3::text) + 1:], $2::text)
          else array[$2::text] || array_remove(channel_order, $2::text) end)
 where id = $1 and not ($2::text = any(channel_order))
