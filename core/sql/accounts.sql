-- Clinics' own provider accounts (migration 20260101009500): saved by the web process
-- (medremind/provider_accounts.py), read by the worker (scheduler/clinic_senders.py) and by the
-- Twilio webhooks to verify a signature with the receiving account's token.

-- name: upsert_account
insert into clinic_provider_accounts (organization_id, channel, config, secret, secret_hint,
                                      inbound_number, messaging_service_sid, validated_at,
                                      updated_by)
values ($1, $2, $3, $4, $5, $6, $7, now(), $8)
on conflict (organization_id, channel) do update
   set config = excluded.config, secret = excluded.secret, secret_hint = excluded.secret_hint,
       inbound_number = excluded.inbound_number,
       messaging_service_sid = excluded.messaging_service_sid,
       validated_at = excluded.validated_at, updated_by = excluded.updated_by
returning id, channel, config, secret_hint, inbound_number, validated_at, updated_by, updated_at

-- name: list_accounts
select id, channel, config, secret_hint, inbound_number, validated_at, updated_by, updated_at
  from clinic_provider_accounts
 where organization_id = $1
 order by channel

-- name: delete_account
delete from clinic_provider_accounts where organization_id = $1 and channel = $2
returning id

-- name: audit
insert into audit_log (organization_id, actor, action, entity, entity_id, details)
values ($1, $2, $3, 'clinic_provider_account', $4, $5)

-- name: worker_accounts
-- Every clinic's accounts with their sealed secrets, for the worker's senders.
select id, organization_id, channel, config, secret, inbound_number, messaging_service_sid,
       updated_at
  from clinic_provider_accounts
 order by organization_id, channel

-- name: accounts_for_check
select o.name as clinic, a.organization_id, a.channel, a.config, a.secret, a.inbound_number
  from clinic_provider_accounts a
  join organizations o on o.id = a.organization_id
 order by o.name, a.organization_id, a.channel

-- name: accounts_version
-- Changes whenever an account is saved or removed: the worker reloads its senders then.
select coalesce(max(updated_at)::text, '') || '/' || count(*) from clinic_provider_accounts

-- name: twilio_account_for
-- The clinic account a Twilio webhook is for ($3: sms or whatsapp): by our number ($1: the
-- inbound "To", or a status callback's "From"), else by the messaging service ($2).
select organization_id, channel, config, secret
  from clinic_provider_accounts
 where channel = $3 and (inbound_number = $1 or messaging_service_sid = $2)
 order by (inbound_number = $1) is true desc
 limit 1

-- name: consume_admin_token
-- A dashboard admin token (issue_clinic_admin_token), used once within its two minutes.
delete from clinic_admin_tokens
 where token_hash = $1 and expires_at > now()
returning organization_id, clinician_id

-- name: sealed_secrets
select id, secret from clinic_provider_accounts order by id

-- name: reseal_secret
update clinic_provider_accounts set secret = $2 where id = $1 and secret = $3

-- name: clinics_for_check
-- Every clinic, for `medremind check`'s judgement of which can send.
select id, name from organizations order by name, id

-- name: clinic_telegram_bots
-- Every clinic's own Telegram bot with its sealed token: the web's start-up registers each
-- bot's webhook again (PUBLIC_BASE_URL or TELEGRAM_WEBHOOK_SECRET may have changed since it was saved).
select id, organization_id, channel, config, secret
  from clinic_provider_accounts
 where channel = 'telegram'
 order by organization_id
