-- A clinic's Telegram paid broadcasts are charged against its own monthly allowance, before
-- each send (platforms/telegram_bots.py PaidCharges).
--
-- Until now a clinic that enabled allow_paid_broadcast (telegram_paid_broadcast_after_seconds)
-- had its late reminders sent with it without bound: Telegram took the Stars (0.1 a message)
-- from the bot's balance, the service's own for its bots, and the clinic's usage was only
-- counted afterwards, in the worker's memory, written every ten seconds (a kill -9 lost up to
-- ten seconds of it). Now:
-- - organizations.telegram_paid_stars_monthly: the Stars a clinic allows for paid broadcasts
--   in a calendar month (UTC). NULL (every clinic until it sets one): no allowance, its messages
--   go unpaid at the bot's free rate however late. A clinic that had paid broadcasts on must set
--   an allowance to keep them.
-- - telegram_paid_months: the messages charged per clinic and month, the allowance's counter.
-- - charge_telegram_paid(orgs, parts, minutes): one statement for a batch of paid sends of a
--   worker: each is granted only while its clinic's month stays within the allowance (rows locked
--   in clinic order, so workers charging at once never overrun it nor deadlock), and what is
--   granted is counted at once, in the month and in telegram_paid_usage's minute (the
--   statistics): a send is made only after its charge is committed, so a killed worker loses no
--   count. Negative parts are refunds (a send Telegram refused: nothing was charged there).

alter table organizations
  add column telegram_paid_stars_monthly numeric(12, 1)
    check (telegram_paid_stars_monthly between 0 and 1000000);
comment on column organizations.telegram_paid_stars_monthly is
  'Telegram Stars the clinic allows for allow_paid_broadcast messages per calendar month (UTC);'
  ' 0.1 a message. NULL: none (no message is sent paid).';

create table telegram_paid_months (
  organization_id uuid not null references organizations (id) on delete cascade,
  month date not null check (date_trunc('month', month) = month),
  messages integer not null check (messages >= 0),
  primary key (organization_id, month)
);
comment on table telegram_paid_months is
  'Telegram messages charged to a clinic''s paid broadcast allowance, per calendar month (UTC).';

alter table public.telegram_paid_months enable row level security;
alter table public.telegram_paid_months force row level security;
revoke all on public.telegram_paid_months from public, anon, authenticated;
grant select, insert, update, delete on public.telegram_paid_months to medremind_app;
create policy telegram_paid_months_service on public.telegram_paid_months
  for all to medremind_app using (true) with check (true);
grant all on public.telegram_paid_months to service_role;
grant select on public.telegram_paid_months to authenticated;
create policy telegram_paid_months_clinician on public.telegram_paid_months for select
  to authenticated using (organization_id = public.current_organization_id());

-- What was counted before this migration counts against this month's allowance.
insert into telegram_paid_months (organization_id, month, messages)
select organization_id, date_trunc('month', minute at time zone 'UTC')::date, sum(messages)
  from telegram_paid_usage
 group by 1, 2;

create function public.charge_telegram_paid(
  p_orgs uuid[], p_parts int[], p_minutes timestamptz[]
) returns table (n int, granted boolean, used integer, allowance integer)
language plpgsql security invoker
set search_path = public, pg_temp
as $$
declare
  v_months date[];
  v_keys text[];
  v_used int[];
  v_allow int[];
  v_k int;
  v_g_orgs uuid[] := '{}';
  v_g_minutes timestamptz[] := '{}';
  v_g_parts int[] := '{}';
  i int;
begin
  select array_agg(date_trunc('month', m at time zone 'UTC')::date order by o)
    into v_months
    from unnest(p_minutes) with ordinality as t(m, o);
  insert into telegram_paid_months (organization_id, month, messages)
  select distinct o, m, 0 from unnest(p_orgs, v_months) as t(o, m) order by 1, 2
  on conflict do nothing;
  -- Locked in key order: workers charging the same clinics at once wait, never deadlock.
  select array_agg(t.organization_id::text || '/' || t.month order by t.organization_id, t.month),
         array_agg(t.messages order by t.organization_id, t.month),
         array_agg(t.allow order by t.organization_id, t.month)
    into v_keys, v_used, v_allow
    from (select pm.organization_id, pm.month, pm.messages,
                 floor(o.telegram_paid_stars_monthly * 10)::int as allow
            from telegram_paid_months pm join organizations o on o.id = pm.organization_id
           where (pm.organization_id, pm.month) in (select * from unnest(p_orgs, v_months))
           order by pm.organization_id, pm.month
             for update of pm) t;
  for i in 1 .. coalesce(cardinality(p_orgs), 0) loop
    n := i;
    v_k := array_position(v_keys, p_orgs[i]::text || '/' || v_months[i]);
    if p_parts[i] < 0 then
      granted := true;  -- a refund
      v_used[v_k] := greatest(0, v_used[v_k] + p_parts[i]);
    else
      granted := v_allow[v_k] is not null and v_used[v_k] + p_parts[i] <= v_allow[v_k];
      if granted then
        v_used[v_k] := v_used[v_k] + p_parts[i];
      end if;
    end if;
    if granted and p_parts[i] <> 0 then
      v_g_orgs := v_g_orgs || p_orgs[i];
      v_g_minutes := v_g_minutes || p_minutes[i];
      v_g_parts := v_g_parts || p_parts[i];
    end if;
    used := v_used[v_k];
    allowance := v_allow[v_k];
    return next;
  end loop;
  update telegram_paid_months pm
     set messages = k.used
    from unnest(v_keys, v_used) as k(key, used)
   where pm.organization_id::text || '/' || pm.month = k.key;
  -- The statistics' minutes: what was granted, less what was refunded, never below zero.
  with g as (
    select o, date_trunc('minute', m) as minute, sum(p)::int as p
      from unnest(v_g_orgs, v_g_minutes, v_g_parts) as t(o, m, p)
     group by 1, 2
  ), upd as (
    update telegram_paid_usage u set messages = greatest(0, u.messages + g.p)
      from g where u.organization_id = g.o and u.minute = g.minute
    returning u.organization_id, u.minute
  )
  insert into telegram_paid_usage as u (organization_id, minute, messages)
  select g.o, g.minute, g.p from g
   where g.p > 0
     and not exists (select 1 from upd where upd.organization_id = g.o and upd.minute = g.minute)
   order by 1, 2
  on conflict (organization_id, minute) do update set messages = u.messages + excluded.messages;
end
$$;
comment on function public.charge_telegram_paid(uuid[], int[], timestamptz[]) is
  'Charge a batch of Telegram paid broadcasts to their clinics'' monthly allowances (negative'
  ' parts refund); granted per send, with the clinic''s month used and its allowance (messages).';
revoke all on function public.charge_telegram_paid(uuid[], int[], timestamptz[])
  from public, anon, authenticated;
grant execute on function public.charge_telegram_paid(uuid[], int[], timestamptz[])
  to medremind_app, service_role;
