-- Only the service removes a clinic's past priority-0 hours.
--
-- public.take_priority_zero removes the clinic's hours more than a day before p_now on the way
-- (migration 20260101017650), and a clinician may call it through PostgREST's /rpc with a p_now
-- of their choosing: days ahead, it removed the clinic's current hours too, and with them what
-- its hourly share had taken, so the dashboard's role could insert priority-0 messages past the
-- share (migration 20260101019120) by emptying the count between them. The clean-up is now the
-- service's (no signed-in user: the API's creates and re-sends, whose p_now is the process's
-- clock), a clinician's call only counts. A clinic that only ever takes priority 0 through the
-- dashboard keeps a row an hour it used until the service next counts for it: a few rows a day.
-- tests/integration/test_priority_zero_hours_clinician.py.

create or replace function public.take_priority_zero(
  p_organization uuid, p_goes_at timestamptz, p_per_hour integer, p_now timestamptz
) returns integer language sql volatile security definer set search_path = public, pg_temp as $$
  -- One of the clinic's priority-0 messages in the clock hour (UTC) of p_goes_at, granted while
  -- the hour holds fewer than p_per_hour (the row's lock serializes processes granting at once).
  -- The hour's count: granted; null: the hour's share is taken. Hours more than a day before
  -- p_now are the clinic's no longer: the service removes them on the way. A signed-in caller
  -- counts only their own clinic's (another's, or any when in no clinic: null, nothing written).
  with gone as (
    delete from api_priority_zero_hours
     where organization_id = p_organization and hour < p_now - interval '1 day'
       and auth.uid() is null
  )
  insert into api_priority_zero_hours as q (organization_id, hour, messages)
  select p_organization, date_trunc('hour', p_goes_at, 'UTC'), 1
   where p_per_hour > 0
     and public.caller_acts_for(p_organization)
  on conflict (organization_id, hour) do update set messages = q.messages + 1
   where q.messages < p_per_hour
  returning q.messages
$$;
