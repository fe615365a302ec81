-- Telegram Stars a clinic spends on paid broadcasts, in its statistics (issue 20).
--
-- A clinic that enables allow_paid_broadcast (organizations.telegram_paid_broadcast_after_seconds,
-- migration 20260101010200) pays Telegram 0.1 Stars per message sent with it. The worker counted
-- them per bot in its metrics only; the clinic pays them, so it now adds what it sent per clinic
-- and minute here (platforms/telegram_bots.py PaidUsage, written every few seconds in one
-- statement), and clinic_paid_broadcast(org, from, to) reports them for a period (the API's
-- statistics table telegram_paid_broadcast; a function apart from clinic_statistics, which a
-- later migration defines). Rows are small and few (a paying clinic's peak minutes).

create table telegram_paid_usage (
  organization_id uuid not null references organizations (id) on delete cascade,
  minute timestamptz not null check (date_trunc('minute', minute) = minute),
  messages integer not null check (messages >= 0),
  primary key (organization_id, minute)
);

alter table public.telegram_paid_usage enable row level security;
alter table public.telegram_paid_usage force row level security;
revoke all on public.telegram_paid_usage from public, anon, authenticated;
grant select, insert, update, delete on public.telegram_paid_usage to medremind_app;
create policy telegram_paid_usage_service on public.telegram_paid_usage
  for all to medremind_app using (true) with check (true);
grant all on public.telegram_paid_usage to service_role;
-- Clinicians read their own clinic's (clinic_paid_broadcast runs as its caller).
grant select on public.telegram_paid_usage to authenticated;
create policy telegram_paid_usage_clinician on public.telegram_paid_usage for select
  to authenticated using (organization_id = public.current_organization_id());

create function public.clinic_paid_broadcast(p_org uuid, p_from timestamptz, p_to timestamptz)
returns table (messages integer, stars numeric)
language sql stable security invoker set search_path = public, pg_temp as $$
  select coalesce(sum(u.messages), 0)::int, round(coalesce(sum(u.messages), 0) * 0.1, 1)
    from telegram_paid_usage u
   where u.organization_id = p_org and u.minute >= p_from and u.minute < p_to
$$;
comment on function public.clinic_paid_broadcast(uuid, timestamptz, timestamptz) is
  'Telegram messages a clinic sent with allow_paid_broadcast in [from, to), and the Stars'
  ' Telegram took for them (0.1 each).';
