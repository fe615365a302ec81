-- The limits the service enforces, published where the dashboard reads them (issue 15 item 2).
-- The dashboard checked SMS length against a fixed 3 segments while the worker and API follow
-- MEDREMIND_SMS_MAX_SEGMENTS: a clinic with 5 saw texts refused that would go out, one with 2 saw
-- texts accepted that the worker then sent another way. `medremind worker` and `medremind web`
-- write their setting here at start (core/service_limits.py); the dashboard reads this row and
-- uses 3 (the default) until a process has started. One row.

create table public.service_limits (
  id boolean primary key default true check (id),
  sms_max_segments integer not null check (sms_max_segments between 1 and 10),
  updated_at timestamptz not null default now()
);
comment on table public.service_limits is
  'Limits the running service enforces (written by medremind web/worker at start); one row.';

alter table public.service_limits enable row level security;
alter table public.service_limits force row level security;
grant select, insert, update on public.service_limits to medremind_app;
create policy service_limits_service on public.service_limits
  for all to medremind_app using (true) with check (true);
grant all on public.service_limits to service_role;
-- Clinicians read it (no clinic data in it); nobody but the service writes it.
grant select on public.service_limits to authenticated;
create policy service_limits_read on public.service_limits
  for select to authenticated using (true);
