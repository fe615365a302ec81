-- Outgoing webhooks: subscriptions (medremind/web/api_v1/webhooks_out.py) and the sender's
-- claim and record (scheduler/webhook_sender.py). Tables: migration 20260101008710.

-- name: insert_subscription
insert into webhook_subscriptions (organization_id, url, description, event_types, secret)
values ($1, $2, $3, $4, $5)
returning id, url, description, event_types, created_at, disabled_at

-- name: sealed_secrets
-- Every subscription's stored secret, for `medremind rotate-credentials`.
select id, secret from webhook_subscriptions order by id

-- name: reseal_secret
update webhook_subscriptions set secret = $2 where id = $1 and secret = $3

-- name: list_subscriptions
select id, url, description, event_types, created_at, disabled_at
  from webhook_subscriptions
 where organization_id = $1 and disabled_at is null
 order by created_at, id

-- name: get_subscription
select id, url, description, event_types, created_at, disabled_at
  from webhook_subscriptions
 where id = $1 and organization_id = $2

-- name: disable_subscription
update webhook_subscriptions set disabled_at = coalesce(disabled_at, now())
 where id = $1 and organization_id = $2
returning id, url, description, event_types, created_at, disabled_at

-- name: replace_secret
-- A new signing secret for an active subscription of the clinic; its pending deliveries are
-- signed with it from their next attempt (the sender reads the secret at each claim).
update webhook_subscriptions set secret = $3
 where id = $1 and organization_id = $2 and disabled_at is null
returning id, url, description, event_types, created_at, disabled_at

-- name: cancel_subscription_deliveries
update webhook_deliveries set status = 'cancelled', last_error = 'subscription deleted',
       updated_at = now()
 where subscription_id = $1 and status = 'pending'

-- name: list_deliveries
-- A subscription's deliveries, newest first by (created_at, id), after the cursor ($3, $4), with
-- their attempts; $5 = limit. A delivery that is over (delivered, failed, cancelled) has no
-- next attempt: the column keeps the last one's time, which read as a retry due.
select d.id, d.event_id, e.event_type, e.payload, d.status, d.attempts,
       case when d.status in ('pending', 'delivering') then d.next_attempt_at end
         as next_attempt_at,
       d.last_status_code, d.last_error, d.delivered_at, d.created_at,
       coalesce((select jsonb_agg(jsonb_build_object(
                   'attempted_at', a.attempted_at, 'status_code', a.status_code,
                   'error', a.error, 'duration_ms', a.duration_ms) order by a.id)
                   from webhook_delivery_attempts a where a.delivery_id = d.id), '[]') as log
  from webhook_deliveries d join webhook_events e on e.id = d.event_id
 where d.subscription_id = $1 and d.organization_id = $2
   and ($3::timestamptz is null or (d.created_at, d.id) < ($3, $4::uuid))
 order by d.created_at desc, d.id desc
 limit $5

-- name: lock_claims
-- Held by a claim's transaction until it commits: claims take turns over the fleet, so each one's
-- statement (a new snapshot under READ COMMITTED) sees every lease taken before it, and the cap
-- per subscription holds for all workers together, not per worker. A claim takes milliseconds.
select pg_advisory_xact_lock(hashtextextended('webhook_deliveries claim', 7240312))

-- name: claim_deliveries
-- Due deliveries (and ones whose sender's lease ran out), leased to this sender, oldest first,
-- with at most $4 of each subscription in flight over the fleet (live leases count; run after
-- lock_claims in one transaction): one clinic's endpoint that answers slowly or never holds $4
-- posts at most, and every other clinic's webhooks go on beside it. $1 now, $2 how many, $3
-- lease seconds, $4 per subscription.
-- Only the subscriptions with a delivery not over are looked at, found by a skip scan of
-- webhook_deliveries_subscription_due_idx (one index probe each): with thousands of clinics
-- subscribed and a few of them with something due, a claim looked at every subscription
-- (14-29 ms each; bench/webhook_fairness.py --idle-clinics).
with recursive open_subscriptions (id) as (
  (select subscription_id from webhook_deliveries
    where status in ('pending', 'delivering')
    order by subscription_id limit 1)
  union all
  select (select d.subscription_id from webhook_deliveries d
           where d.status in ('pending', 'delivering') and d.subscription_id > o.id
           order by d.subscription_id limit 1)
    from open_subscriptions o
   where o.id is not null
), busy as (
  select subscription_id, count(*)::int as n from webhook_deliveries
   where status = 'delivering' and locked_until >= $1
   group by subscription_id
), candidates as (
  select c.id, c.next_attempt_at,
         row_number() over (partition by o.id order by c.next_attempt_at) + coalesce(b.n, 0)
           as place
    from open_subscriptions o
    cross join lateral (
      select d.id, d.next_attempt_at from webhook_deliveries d
       where d.subscription_id = o.id
         and ((d.status = 'pending' and d.next_attempt_at <= $1)
              or (d.status = 'delivering' and d.locked_until < $1))
       order by d.next_attempt_at
       limit $4
       for update of d skip locked
    ) c
    left join busy b on b.subscription_id = o.id
   -- Idle (nothing due anywhere, most polls): one look at the due indexes, no subscription's.
   where o.id is not null
     and (exists (select 1 from webhook_deliveries
                   where status = 'pending' and next_attempt_at <= $1)
          or exists (select 1 from webhook_deliveries
                      where status = 'delivering' and locked_until < $1))
), due as (
  select id from candidates where place <= $4 order by next_attempt_at limit $2
)
update webhook_deliveries d
   set status = 'delivering', attempts = d.attempts + 1,
       locked_until = $1 + make_interval(secs => $3), updated_at = now()
  from due, webhook_events e, webhook_subscriptions s
 where d.id = due.id and e.id = d.event_id and s.id = d.subscription_id
returning d.id, d.attempts, d.event_id, e.payload, s.url, s.secret, s.disabled_at

-- name: record_attempt
insert into webhook_delivery_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
values ($1, $2, $3, $4, $5)

-- name: record_delivered
update webhook_deliveries
   set status = 'delivered', delivered_at = $2, last_status_code = $3, last_error = null,
       locked_until = null, updated_at = now()
 where id = $1 and status = 'delivering'

-- name: record_failed
-- $4: when to try again, or null when the attempts are spent ($5 'failed') or the subscription
-- is gone ($5 'cancelled').
update webhook_deliveries
   set status = case when $4::timestamptz is null then $5 else 'pending' end,
       next_attempt_at = coalesce($4, next_attempt_at), last_status_code = $2, last_error = $3,
       locked_until = null, updated_at = now()
 where id = $1 and status = 'delivering'

-- name: subscriptions_for_check
-- Live subscriptions with their clinic and sealed secret, and their deliveries not over whose
-- last attempt failed (to be tried again), with its HTTP status (medremind check).
select o.name as clinic, s.url, s.secret, count(d.id)::int as retrying,
       (array_agg(d.last_status_code order by d.updated_at desc))[1] as last_status_code
  from webhook_subscriptions s
  join organizations o on o.id = s.organization_id
  left join webhook_deliveries d
    on d.subscription_id = s.id and d.status in ('pending', 'delivering')
   and d.last_error is not null
 where s.disabled_at is null
 group by o.name, s.id
 order by o.name, s.created_at
