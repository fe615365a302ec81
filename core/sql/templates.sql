-- Clinician-authored templates (message_templates): the dispatcher's batch lookup and the web
-- API's reads and writes. Every query is filtered by organization (the API key's, or the
-- patient's), so no caller can reach another organization's templates.

-- name: templates_for_patients
-- One round trip per claimed batch: every version of the named templates in each patient's
-- organization. $1 uuid[] patient ids, $2 text[] template names.
select p.id as patient_id, t.organization_id, t.name, t.kind, t.locale, t.channel, t.body,
       t.subject
  from patients p
  join message_templates t on t.organization_id = p.organization_id
 where p.id = any($1::uuid[])
   and t.name = any($2::text[])

-- name: list_templates
select id, name, kind, locale, channel, body, subject, automatic, created_at, updated_at
  from message_templates
 where organization_id = $1
 order by name, locale, channel

-- name: templates_by_name
select id, name, kind, locale, channel, body, subject, automatic, created_at, updated_at
  from message_templates
 where organization_id = $1 and name = $2
 order by locale, channel

-- name: upsert_template
-- $8 automatic: the clinic's text for automatic messages of the kind (clear_automatic first).
insert into message_templates (organization_id, name, kind, locale, channel, body, subject,
                               automatic)
values ($1, $2, $3, $4, $5, $6, $7, $8)
on conflict (organization_id, name, locale, channel)
do update set kind = excluded.kind, body = excluded.body, subject = excluded.subject,
              automatic = excluded.automatic
returning id, name, kind, locale, channel, body, subject, automatic, created_at, updated_at,
          (xmax = 0) as created

-- name: clear_automatic
-- Another template's automatic version of this kind, locale and channel gives up its place
-- (at most one per clinic: message_templates_automatic_idx). $1 org, $2 kind, $3 locale,
-- $4 channel, $5 the name taking the place.
update message_templates set automatic = false
 where organization_id = $1 and automatic and kind = $2 and locale = $3 and channel = $4
   and name <> $5

-- name: automatic_templates_for_clinics
-- The clinics' automatic versions (message_templates.automatic) of the kinds a claimed batch
-- sends without a template, in one round trip. $1 uuid[] organization ids (the patients'
-- clinics, as the claim read them), $2 text[] kinds.
select t.organization_id, t.name, t.kind, t.locale, t.channel, t.body, t.subject
  from message_templates t
 where t.organization_id = any($1::uuid[])
   and t.automatic
   and t.kind = any($2::text[])
