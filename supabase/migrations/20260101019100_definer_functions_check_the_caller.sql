-- Security-definer functions that a signed-in user may call act for the caller's own clinic
-- only, also when the caller is in no clinic.
--
-- public.take_priority_zero and public.clinic_message_refusal run as their owner, past row-level
-- security, and told a clinician from the service by public.current_organization_id(): with
-- `p_organization = coalesce(public.current_organization_id(), p_organization)`, a caller in no
-- clinic passed as the service. A signed-in user need not be a clinician: Supabase Auth's sign-up
-- is open unless the project turns it off, the dashboard's anon key is public, and PostgREST's
-- /rpc serves every function `authenticated` may execute. Such a user spent any clinic's hourly
-- priority-0 share (its API's urgent messages then went at the default priority) and read, for
-- any patient, the cap their clinic's messages reached and when it frees (when those messages
-- were created). public.message_of_patient, which the policy on scheduled_messages asks about a
-- re-send's original, answered for any message and patient of any clinic when called directly.
--
-- The service is the caller with no signed-in user (auth.uid() is null: the web and worker
-- processes' medremind_app, which sets no JWT claims); anyone signed in acts for their own clinic
-- only, and one in no clinic for none; take_priority_zero's clean-up of past hours, which a
-- caller's p_now steers, is the service's alone, and a signed-in caller's hour and share size
-- are not theirs: an hour gone by (which no message of theirs goes in) and a share of their own
-- counted their clinic's priority-0 messages past the one the processes publish.
-- tests/integration/test_function_privileges.py,
-- tests/integration/test_priority_zero_hours_clinician.py.

create function public.caller_acts_for(p_organization uuid) returns boolean
  language sql stable set search_path = public, pg_temp as $$
  select auth.uid() is null or p_organization = public.current_organization_id()
$$;
comment on function public.caller_acts_for(uuid) is
  'Whether the caller may act for clinic p_organization: the service (no signed-in user), or a clinician of it';
revoke all on function public.caller_acts_for(uuid) from public, anon, authenticated;

create function public.priority_zero_per_hour() returns integer
  language sql stable set search_path = public, pg_temp as $$
  -- The share the last process to start published; until one has, the setting's default.
  select coalesce((select l.api_priority_zero_per_hour from service_limits l), 100)
$$;
comment on function public.priority_zero_per_hour() is
  'MEDREMIND_API_PRIORITY_ZERO_PER_HOUR as the processes publish it (service_limits), else its default';
revoke all on function public.priority_zero_per_hour() from public, anon;
grant execute on function public.priority_zero_per_hour()
  to authenticated, medremind_app, service_role;

create or replace function public.take_priority_zero(
  p_organization uuid, p_goes_at timestamptz, p_per_hour integer, p_now timestamptz
) returns integer language sql volatile security definer set search_path = public, pg_temp as $$
  -- One of the clinic's priority-0 messages in the clock hour (UTC) of p_goes_at, granted while
  -- the hour holds fewer than p_per_hour (the row's lock serializes processes granting at once).
  -- The hour's count: granted; null: the hour's share is taken. Hours more than a day before
  -- p_now are the clinic's no longer: the service removes them on the way. A signed-in caller
  -- counts only their own clinic's (another's, or any when in no clinic: null, nothing written)
  -- and removes none: their p_now is their own choice, and days ahead it removed the clinic's
  -- current hours, and what its share had taken, so the dashboard's role inserted priority-0
  -- messages past the share (migration 20260101019120) by emptying the count between them. A
  -- clinic that takes priority 0 only through the dashboard keeps a row an hour it used until
  -- the service next counts for it: a few rows a day. Their hour is the database's at the
  -- earliest and their share the published one: the service's are its clock's (tests inject it)
  -- and its settings'.
  with gone as (
    delete from api_priority_zero_hours
     where organization_id = p_organization and hour < p_now - interval '1 day'
       and auth.uid() is null
  ), asked (hour, per_hour) as (
    select date_trunc('hour', p_goes_at, 'UTC'), p_per_hour where auth.uid() is null
    union all
    select date_trunc('hour', greatest(p_goes_at, now()), 'UTC'), public.priority_zero_per_hour()
     where auth.uid() is not null
  )
  insert into api_priority_zero_hours as q (organization_id, hour, messages)
  select p_organization, a.hour, 1 from asked a
   where a.per_hour > 0
     and public.caller_acts_for(p_organization)
  on conflict (organization_id, hour) do update set messages = q.messages + 1
   where q.messages < (select a.per_hour from asked a)
  returning q.messages
$$;

create or replace function public.clinic_message_refusal(p_patient uuid)
returns table (time_window text, message_limit integer, setting text, retry_at timestamptz)
language sql stable security definer set search_path = public, pg_temp as $$
  -- Why patient p_patient may be given no more clinic messages now: the window whose cap is
  -- reached (the later-freed one when both are), its limit, the setting that sets it, and when
  -- the oldest message that keeps it full leaves it. No row: there is room. A signed-in caller
  -- asks only about their own clinic's patients (another's, or any when in no clinic: no row).
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
       and public.caller_acts_for(p.organization_id)
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

-- Asked by the policy only for a patient of the clinician's clinic; asked directly (/rpc), it
-- answers only for one.
create or replace function public.message_of_patient(p_message uuid, p_patient uuid)
returns boolean language sql stable security definer set search_path = public, pg_temp as $$
  select public.patient_in_my_organization(p_patient)
     and exists (select 1 from public.scheduled_messages m
                  where m.id = p_message and m.patient_id = p_patient)
$$;
