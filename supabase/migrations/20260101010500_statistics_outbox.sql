-- Clinic statistics no longer count outbox deliveries as sent. A message written to the outbox
-- folder (a channel without credentials: `medremind dev`, or MEDREMIND_OUTBOX_ENABLED=true) has
-- status 'sent' and via_outbox (migration 20260101009300), but nobody received it: the
-- statistics showed it as sent, in the delivery rate, in the time to send, as a question the
-- patient was asked and as an appointment reminded. It now shows under status 'outbox' (by
-- channel and status), in the new 'outbox' columns of delivery and messages_by_day, and counts
-- against the delivery rate like a failure; everything else reads the same as before.

create or replace function public.clinic_statistics(p_org uuid, p_from timestamptz, p_to timestamptz)
returns jsonb
language sql stable security invoker set search_path = public, pg_temp as $$
with
org as (
  select timezone from organizations where id = p_org
),
msgs as (
  select m.id, coalesce(m.channel_used, m.platform) as channel, m.kind,
         -- A message written to the outbox folder (no credentials) reached nobody.
         case when m.via_outbox and m.status in ('sent', 'delivered') then 'outbox'
              else m.status end as status,
         m.scheduled_time, m.sent_at, m.delivered_at, m.dose_event_id, m.appointment_id,
         (m.scheduled_time at time zone (select timezone from org))::date as day
    from scheduled_messages m
   where m.organization_id = p_org
     and m.scheduled_time >= p_from and m.scheduled_time < p_to
),
by_channel_status as (
  select channel, status, count(*)::int as messages
    from msgs group by channel, status
),
delivery as (
  select channel,
         count(*)::int as messages,
         count(*) filter (where status in ('sent', 'delivered'))::int as sent,
         count(*) filter (where status = 'delivered')::int as delivered,
         count(*) filter (where status = 'failed')::int as failed,
         count(*) filter (where status = 'expired')::int as expired,
         count(*) filter (where status = 'cancelled')::int as cancelled,
         count(*) filter (where status in ('pending', 'processing'))::int as waiting,
         count(*) filter (where status = 'outbox')::int as outbox,
         round(
           count(*) filter (where status in ('sent', 'delivered'))::numeric
           / nullif(count(*) filter (
               where status in ('sent', 'delivered', 'outbox', 'failed', 'expired')), 0),
           4) as delivery_rate,
         round(
           (percentile_cont(0.5) within group (order by extract(epoch from sent_at - scheduled_time))
             filter (where sent_at is not null and status <> 'outbox'))::numeric, 1)
           as median_seconds_to_send,
         round(
           (percentile_cont(0.9) within group (order by extract(epoch from sent_at - scheduled_time))
             filter (where sent_at is not null and status <> 'outbox'))::numeric, 1)
           as p90_seconds_to_send,
         round(
           (percentile_cont(0.5) within group (order by extract(epoch from delivered_at - scheduled_time))
             filter (where delivered_at is not null))::numeric, 1) as median_seconds_to_delivery
    from msgs group by channel
),
by_day as (
  select day,
         count(*)::int as messages,
         count(*) filter (where status in ('sent', 'delivered'))::int as sent,
         count(*) filter (where status = 'delivered')::int as delivered,
         count(*) filter (where status in ('failed', 'expired'))::int as failed,
         count(*) filter (where status = 'outbox')::int as outbox
    from msgs group by day
),
-- Messages that ask the patient something, and whether the patient answered it.
questions as (
  select m.kind,
         case
           when m.kind = 'medication_reminder' then d.answered_at is not null
           else exists (
             select 1 from audit_log l
              where l.entity = 'appointment' and l.actor = 'patient'
                and l.entity_id = m.appointment_id::text
                and l.action like 'appointment.%'
                and l.at >= coalesce(m.sent_at, m.scheduled_time))
         end as replied
    from msgs m left join dose_events d on d.id = m.dose_event_id
   where m.status in ('sent', 'delivered')
     and m.kind in ('medication_reminder', 'appointment_confirmation', 'appointment_reminder')
),
replies as (
  select kind, count(*)::int as asked, count(*) filter (where replied)::int as replied,
         round(count(*) filter (where replied)::numeric / nullif(count(*), 0), 4) as reply_rate
    from questions group by kind
),
appts as (
  select a.id, a.status,
         exists (
           select 1 from scheduled_messages m
            where m.appointment_id = a.id
              and m.kind in ('appointment_confirmation', 'appointment_reminder')
              and m.status in ('sent', 'delivered') and not m.via_outbox) as reminded,
         exists (
           select 1 from audit_log l
            where l.entity = 'appointment' and l.actor = 'patient'
              and l.entity_id = a.id::text and l.action = 'appointment.confirm') as confirmed
    from appointments a
   where a.organization_id = p_org and a.starts_at >= p_from and a.starts_at < p_to
),
outcomes as (
  select status, count(*)::int as appointments from appts group by status
),
confirmation as (
  select count(*) filter (where reminded)::int as reminded,
         count(*) filter (where reminded and confirmed)::int as confirmed,
         round(count(*) filter (where reminded and confirmed)::numeric
               / nullif(count(*) filter (where reminded), 0), 4) as confirmation_rate
    from appts
),
no_show as (
  select g.position, g.reminder,
         count(a.id) filter (where a.status in ('completed', 'no_show'))::int as with_outcome,
         count(a.id) filter (where a.status = 'completed')::int as attended,
         count(a.id) filter (where a.status = 'no_show')::int as no_show,
         round(count(a.id) filter (where a.status = 'no_show')::numeric
               / nullif(count(a.id) filter (where a.status in ('completed', 'no_show')), 0), 4)
           as no_show_rate
    from (values (1, 'confirmed'), (2, 'reminded_not_confirmed'), (3, 'not_reminded'))
           as g (position, reminder)
    left join appts a on g.reminder = case
      when a.confirmed then 'confirmed'
      when a.reminded then 'reminded_not_confirmed'
      else 'not_reminded' end
   group by g.position, g.reminder
),
doses as (
  select d.patient_id, d.status,
         (d.due_at at time zone (select timezone from org))::date as day
    from dose_events d join patients p on p.id = d.patient_id
   where p.organization_id = p_org
     and d.due_at >= p_from and d.due_at < p_to
     and d.status in ('taken', 'skipped', 'missed')
),
adherence_by_day as (
  select day,
         count(*) filter (where status = 'taken')::int as taken,
         count(*) filter (where status = 'skipped')::int as skipped,
         count(*) filter (where status = 'missed')::int as missed,
         round(count(*) filter (where status = 'taken')::numeric / count(*), 4) as adherence
    from doses group by day
),
per_patient as (
  select patient_id, count(*) filter (where status = 'taken')::numeric / count(*) as adherence
    from doses group by patient_id
),
adherence_bands as (
  select b.position, b.band, count(p.patient_id)::int as patients
    from (values (1, '0-49%', 0.0, 0.5), (2, '50-79%', 0.5, 0.8), (3, '80-100%', 0.8, 1.01))
           as b (position, band, low, high)
    left join per_patient p on p.adherence >= b.low and p.adherence < b.high
   group by b.position, b.band
),
adherence as (
  select count(distinct patient_id)::int as patients,
         count(*)::int as doses,
         count(*) filter (where status = 'taken')::int as taken,
         count(*) filter (where status = 'skipped')::int as skipped,
         count(*) filter (where status = 'missed')::int as missed,
         round(count(*) filter (where status = 'taken')::numeric / nullif(count(*), 0), 4)
           as adherence
    from doses
)
select jsonb_build_object(
  'timezone', (select timezone from org),
  'messages_by_channel_status', coalesce((select jsonb_agg(to_jsonb(t) order by t.channel, t.status)
                                           from by_channel_status t), '[]'),
  'delivery', coalesce((select jsonb_agg(to_jsonb(t) order by t.channel) from delivery t), '[]'),
  'messages_by_day', coalesce((select jsonb_agg(to_jsonb(t) order by t.day) from by_day t), '[]'),
  'replies', coalesce((select jsonb_agg(to_jsonb(t) order by t.kind) from replies t), '[]'),
  'appointment_outcomes', coalesce((select jsonb_agg(to_jsonb(t) order by t.status)
                                     from outcomes t), '[]'),
  'confirmation', (select jsonb_agg(to_jsonb(t)) from confirmation t),
  'no_show', (select jsonb_agg(to_jsonb(t) - 'position' order by t.position) from no_show t),
  'adherence', (select jsonb_agg(to_jsonb(t)) from adherence t),
  'adherence_by_day', coalesce((select jsonb_agg(to_jsonb(t) order by t.day)
                                 from adherence_by_day t), '[]'),
  'adherence_by_patient', (select jsonb_agg(to_jsonb(t) - 'position' order by t.position)
                             from adherence_bands t)
)
where exists (select 1 from org)
$$;
comment on function public.clinic_statistics(uuid, timestamptz, timestamptz) is
  'A clinic''s statistics for [from, to) as JSON tables of flat rows (API and dashboard);'
  ' outbox deliveries (nobody received them) count as outbox, never as sent.';
