-- Every grant of a clinic's priority-0 share removes the clinic's hours more than a day gone by,
-- whoever grants it: the service (its clock, p_now: the processes' or a test's) or a signed-in
-- clinician (the database's clock: their p_now is their own choice, and days ahead it removed the
-- clinic's current hours and so what its share had taken, migration 20260101019100). Only the
-- service cleaned up, so a clinic taking priority 0 only through the dashboard (its Compose's
-- rows, its re-sends) kept a row for every hour it ever used, the hours written ahead included,
-- until the service next counted for it, which such a clinic never does.
-- tests/integration/test_priority_zero_hours_clinician.py.

create or replace function public.take_priority_zero(
  p_organization uuid, p_goes_at timestamptz, p_per_hour integer, p_now timestamptz
) returns integer language sql volatile security definer set search_path = public, pg_temp as $$
  -- One of the clinic's priority-0 messages in the clock hour (UTC) of p_goes_at, granted while
  -- the hour holds fewer than p_per_hour (the row's lock serializes processes granting at once).
  -- The hour's count: granted; null: the hour's share is taken. Hours more than a day gone by are
  -- the clinic's no longer and go on the way: a day before p_now for the service, before the
  -- database's now for a signed-in caller, who counts and removes only their own clinic's
  -- (another's, or any when in no clinic: null, nothing written). Their hour is the database's
  -- at the earliest and their share the published one: the service's are its clock's (tests
  -- inject it) and its settings'.
  with gone as (
    delete from api_priority_zero_hours
     where organization_id = p_organization
       and hour < case when auth.uid() is null then p_now else now() end - interval '1 day'
       and public.caller_acts_for(p_organization)
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
