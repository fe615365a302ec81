-- A clinic's share of priority 0 through the API (medremind/web/api_v1/priority_share.py).
--
-- POST /api/v1/messages takes `priority` 0-9; 0 is the time-critical level the planner gives
-- time-critical doses and the bot its replies, and the claim takes it first, whichever clinic's
-- it is (docs/delivery.md). A clinic that posted thousands of free-text messages at priority 0
-- was claimed ahead of every other clinic's dose reminders on a shared bot or number. Now each
-- clinic may schedule a limited number of priority-0 messages through the API per clock hour
-- (UTC) of the time they are expected to go (MEDREMIND_API_PRIORITY_ZERO_PER_HOUR); past it a
-- message is accepted at the API's default priority (5) with a warning naming the share.
-- This table counts what each clinic has taken per hour: one row per clinic and hour, updated
-- under its row lock (two web processes at once never overrun it). A message cancelled later
-- still counts (the count is what was granted). Rows of hours more than a day past are removed
-- by the clinic's next grant.

create table api_priority_zero_hours (
  organization_id uuid not null references organizations (id) on delete cascade,
  hour timestamptz not null check (date_trunc('hour', hour, 'UTC') = hour),
  messages integer not null check (messages >= 0),
  primary key (organization_id, hour)
);
comment on table api_priority_zero_hours is
  'Priority-0 messages a clinic scheduled through the API, per clock hour (UTC) they go in.';

alter table public.api_priority_zero_hours enable row level security;
alter table public.api_priority_zero_hours force row level security;
revoke all on public.api_priority_zero_hours from public, anon, authenticated;
grant select, insert, update, delete on public.api_priority_zero_hours to medremind_app;
create policy api_priority_zero_hours_service on public.api_priority_zero_hours
  for all to medremind_app using (true) with check (true);
grant all on public.api_priority_zero_hours to service_role;
