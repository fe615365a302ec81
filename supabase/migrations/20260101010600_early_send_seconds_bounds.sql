-- The early window's values are checked by the database, not only by the API (attack run,
-- issue 15's kind). organizations is writable by a signed-in admin through PostgREST (the
-- dashboard's role), which bypassed PATCH /api/v1/clinic's 0-3600 check: a value such as
-- {"medication_reminder": "soon"} made the planner's schedules_to_plan fail its float8 cast on
-- every tick, for every clinic whose schedules shared the batch (no clinic's reminders were
-- planned), and GET /api/v1/clinic answer 500; a huge number let the planner move a reminder
-- days early. Now every value is a whole number of seconds in 0-3600 under a short kind name,
-- at most 10 of them, whoever writes.
create function public.early_send_seconds_valid(windows jsonb) returns boolean
  language sql immutable parallel safe as $$
  select jsonb_typeof(windows) = 'object'
     and (select count(*) <= 10
                 and coalesce(bool_and(
                       kind ~ '^[a-z_]{1,40}$'
                       and jsonb_typeof(seconds) = 'number'
                       and seconds::text::numeric between 0 and 3600
                       and seconds::text::numeric = trunc(seconds::text::numeric)), true)
            from jsonb_each(windows) as w(kind, seconds))
$$;
comment on function public.early_send_seconds_valid(jsonb) is
  'organizations.early_send_seconds check: {kind: whole seconds 0-3600}, at most 10 kinds';
-- The check runs as whoever writes the row; anon writes no clinic (and may call no function).
revoke all on function public.early_send_seconds_valid(jsonb) from public;
grant execute on function public.early_send_seconds_valid(jsonb)
  to authenticated, medremind_app, service_role;

-- A value stored before this check (only possible outside the API) is dropped: no window.
update public.organizations set early_send_seconds = '{}'::jsonb
 where not public.early_send_seconds_valid(early_send_seconds);

alter table public.organizations
  add constraint organizations_early_send_seconds_bounds
  check (public.early_send_seconds_valid(early_send_seconds));
