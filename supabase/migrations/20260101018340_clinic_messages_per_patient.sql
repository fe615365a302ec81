-- A cap on the messages a clinic creates for one patient (docs/api.md, "A cap per patient").
--
-- Found by an attack session: one API key created 60 POST /api/v1/messages to one patient in
-- 5.6 s, all accepted (held by the patient's quiet hours, all due at 08:00). Nothing limited
-- them: the API's rate is per key (600 a minute), SMS is paced per sender, not per recipient,
-- and the appointment reminders' caps (organizations.caps, scheduler/appointments.py) count only
-- the planner's reminders. An integrator's retry loop without Idempotency-Key could text one
-- person hundreds of times.
--
-- 1. scheduled_messages.from_clinic marks a message a clinic wrote: POST /api/v1/messages and
--    /messages/group (core/sql/web.sql insert_message), and the dashboard's Compose, one patient
--    or a group (payload.source = 'dashboard', marked here so every client of the table is
--    counted). Not the planner's reminders, nags, appointment texts, the bot's replies (their
--    own rules), nor a re-send (resent_from: one copy of a failed message, which counts no more).
-- 2. At most service_limits.clinic_messages_per_patient_hour of them per patient created in the
--    last hour and ..._day in the last 24 hours (MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR and
--    _DAY, published by medremind web/worker at start; 0 turns a window's cap off). A clinic's
--    own limit is organizations.caps' clinic_messages_per_patient_hour / _day (like its
--    appointment caps). Cancelled, failed and expired ones are not counted: they reached nobody.
-- 3. Checked by a trigger before the insert, whoever inserts, after locking the patient's row
--    (FOR NO KEY UPDATE, as the planner's appointment caps do: lock_patient_for_caps): two web
--    processes creating at once are serialized per patient, the second counts the first. Past the
--    cap: SQLSTATE MR429, the message saying why, the detail a JSON object (window, limit,
--    retry_at, retry_after seconds) that the API answers as a 429 with Retry-After.
-- 4. public.clinic_message_refusal answers the same question without inserting, so a group
--    message leaves such patients out and names them (the API's and the dashboard's).

alter table public.service_limits
  add column clinic_messages_per_patient_hour integer not null default 5
    check (clinic_messages_per_patient_hour between 0 and 10000),
  add column clinic_messages_per_patient_day integer not null default 10
    check (clinic_messages_per_patient_day between 0 and 10000);
comment on column public.service_limits.clinic_messages_per_patient_hour is
  'MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR of the last process to start (0: no cap)';
comment on column public.service_limits.clinic_messages_per_patient_day is
  'MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_DAY of the last process to start (0: no cap)';

alter table public.scheduled_messages add column from_clinic boolean not null default false;
comment on column public.scheduled_messages.from_clinic is
  'Written by a clinic (API or dashboard Compose): counted by the per-patient cap (migration 20260101018340)';
create index scheduled_messages_from_clinic_idx on public.scheduled_messages (patient_id, created_at)
  where from_clinic;

-- A clinic's limit for a window: its caps' own (a whole number), else the service's.
create function public.clinic_cap_value(p_caps jsonb, p_name text, p_default integer)
returns integer language sql immutable set search_path = public, pg_temp as $$
  select case when jsonb_typeof(p_caps -> p_name) = 'number'
              then greatest(0, least(10000, floor((p_caps ->> p_name)::numeric)))::integer
              else p_default end
$$;
revoke all on function public.clinic_cap_value(jsonb, text, integer) from public, anon;
grant execute on function public.clinic_cap_value(jsonb, text, integer) to authenticated, medremind_app;

create function public.clinic_message_refusal(p_patient uuid)
returns table (time_window text, message_limit integer, setting text, retry_at timestamptz)
language sql stable security definer set search_path = public, pg_temp as $$
  -- Why patient p_patient may be given no more clinic messages now: the window whose cap is
  -- reached (the later-freed one when both are), its limit, the setting that sets it, and when
  -- the oldest message that keeps it full leaves it. No row: there is room. A signed-in clinician
  -- asks only about their own clinic's patients (another's: no row).
  with limits as (
    select w.name, w.length,
           public.clinic_cap_value(o.caps, 'clinic_messages_per_patient_' || w.name,
                                   case w.name when 'hour' then l.hour else l.day end) as cap,
           case when jsonb_typeof(o.caps -> ('clinic_messages_per_patient_' || w.name)) = 'number'
                then 'the clinic''s caps.clinic_messages_per_patient_' || w.name
                else 'MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_' || upper(w.name) end as setting
      from patients p
      join organizations o on o.id = p.organization_id
     cross join (select coalesce(max(clinic_messages_per_patient_hour), 5) as hour,
                        coalesce(max(clinic_messages_per_patient_day), 10) as day
                   from service_limits) l
     cross join (values ('hour', interval '1 hour'), ('day', interval '24 hours')) w (name, length)
     where p.id = p_patient
       and p.organization_id = coalesce(public.current_organization_id(), p.organization_id)
  )
  select l.name, l.cap, l.setting, full_since.created_at + l.length
    from limits l
   cross join lateral (
     select m.created_at
       from scheduled_messages m
      where m.patient_id = p_patient and m.from_clinic
        and m.status in ('pending', 'processing', 'sent', 'delivered')
        and m.created_at > now() - l.length
      order by m.created_at desc
      offset greatest(l.cap - 1, 0) limit 1
   ) full_since
   where l.cap > 0
   order by full_since.created_at + l.length desc
   limit 1
$$;
comment on function public.clinic_message_refusal(uuid) is
  'The per-patient cap a new clinic message would pass (window, limit, setting, retry_at), or no row';
revoke all on function public.clinic_message_refusal(uuid) from public, anon;
grant execute on function public.clinic_message_refusal(uuid) to authenticated, medremind_app;

create function public.scheduled_messages_patient_cap() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  refusal record;
  window_words text;
begin
  if new.payload ->> 'source' = 'dashboard' and new.resent_from is null then
    new.from_clinic := true;
  end if;
  if not new.from_clinic then
    return new;
  end if;
  -- Serializes clinic messages per patient (and with appointment planning): a concurrent
  -- insert's row is committed, and counted below, before this one counts.
  perform 1 from patients where id = new.patient_id for no key update;
  select * into refusal from public.clinic_message_refusal(new.patient_id);
  if found then
    window_words := case refusal.time_window when 'hour' then 'hour' else '24 hours' end;
    raise exception using
      errcode = 'MR429',
      message = format(
        'this patient already has %s messages from your clinic created in the last %s, the most'
        ' one patient may be given (%s per %s: %s); nothing was created. Another can be created'
        ' from %s UTC, or once one of them is cancelled',
        refusal.message_limit, window_words, refusal.message_limit, refusal.time_window,
        refusal.setting, to_char(refusal.retry_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')),
      detail = json_build_object(
        'window', refusal.time_window, 'limit', refusal.message_limit,
        'setting', refusal.setting, 'retry_at', refusal.retry_at,
        'retry_after', greatest(1, ceil(extract(epoch from refusal.retry_at - now()))))::text;
  end if;
  return new;
end
$$;
create trigger scheduled_messages_patient_cap before insert on public.scheduled_messages
  for each row when (new.from_clinic or new.payload ->> 'source' = 'dashboard')
  execute function public.scheduled_messages_patient_cap();
