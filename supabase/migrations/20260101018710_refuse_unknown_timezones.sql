-- A time zone the reminders cannot be planned in is refused where a clinician writes it.
--
-- patients.timezone had no check (the bot's parser and the API validate with Python's zoneinfo
-- before they write; migration 20260101007200 left the column for later). A clinician writing
-- through Supabase with their own JWT (the dashboard's role, `authenticated`) could store any
-- text, such as 'Etc/Unknown' (ICU's name for tzdata's 'Factory'): nothing was planned for the
-- patient, and until scheduler/planning_steps.py the planner tick's follow-ups, refills and
-- quiet-hours steps raised on it for every clinic (tests/planner/test_tick_steps_isolated.py).
-- Now an insert, or a change of the zone, by the Supabase roles is refused with a check
-- violation naming the column and a good value. Rows stored before stay (medremind check and
-- /metrics count them: medremind_patients_timezone_unknown) and other columns of theirs can
-- still be changed: only a new zone is checked.
--
-- Only the Supabase roles: reading pg_timezone_names costs ~15 ms (it lists the zone files);
-- the service's own writers (medremind_app: the API, the bot) check the zone with zoneinfo, a
-- stricter test, before they write, and a migration's rewrite is its own author's.

create function public.refuse_unknown_timezone() returns trigger
language plpgsql
set search_path = pg_catalog, public, pg_temp as $$
declare
  col text;
  zone text;
begin
  foreach col in array tg_argv loop
    zone := to_jsonb(new) ->> col;
    if zone is not null
       and (tg_op = 'INSERT' or zone is distinct from (to_jsonb(old) ->> col))
       and not public.is_iana_timezone(zone) then
      raise exception '%.%: "%" is not a time zone reminders can be planned in', tg_table_name,
            col, zone
        using errcode = 'check_violation', column = col, table = tg_table_name,
              hint = 'Use an IANA zone name, exactly as written there: Europe/Madrid, '
                     'America/New_York, UTC.';
    end if;
  end loop;
  return new;
end $$;

comment on function public.refuse_unknown_timezone() is
  'Trigger: the columns named by its arguments must hold an IANA zone this server knows, when a '
  'Supabase role writes them (migration 20260101018710).';

create trigger patients_timezone_known
  before insert or update of timezone, home_timezone on public.patients
  for each row when (current_user in ('authenticated', 'anon', 'service_role'))
  execute function public.refuse_unknown_timezone('timezone', 'home_timezone');

create trigger reminder_schedules_timezone_known
  before insert or update of timezone on public.reminder_schedules
  for each row when (current_user in ('authenticated', 'anon', 'service_role'))
  execute function public.refuse_unknown_timezone('timezone');

create trigger organizations_timezone_known
  before insert or update of timezone on public.organizations
  for each row when (current_user in ('authenticated', 'anon', 'service_role'))
  execute function public.refuse_unknown_timezone('timezone');

revoke all on function public.refuse_unknown_timezone() from public;
