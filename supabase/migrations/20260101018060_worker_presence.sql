-- The live workers of the fleet, each seen within seconds (scheduler/fleet_share.py): every
-- worker says it is alive with its render-ahead pass, once a second, and learns how many are
-- and its rank among them. It then reads ahead, renders ahead and claims ahead only its share
-- of the messages due soon (issue 20: each of N workers rendered every message, N times the
-- CPU of one). Only the preparation is shared out: any worker claims any row that is due.
-- No clinic data: a worker's id (host:pid) and when it was last seen.
create table public.worker_presence (
  worker text primary key,
  seen_at timestamptz not null default now()
);

comment on table public.worker_presence is
  'Live dispatcher workers (seen within seconds): each prepares its share of the messages due '
  'soon (scheduler/fleet_share.py, issue 20).';

alter table public.worker_presence enable row level security;
alter table public.worker_presence force row level security;
revoke all on public.worker_presence from public, anon, authenticated;
grant select, insert, update, delete on public.worker_presence to medremind_app;
create policy worker_presence_service on public.worker_presence
  for all to medremind_app using (true) with check (true);
grant all on public.worker_presence to service_role;
