-- A clinic's wall-clock time as an instant, the first time the clock shows it.
--
-- The dashboard turns what a clinician writes (Compose's send time, an appointment's start or new
-- time) into an instant with `timestamp AT TIME ZONE zone`. For a time that happens twice, on the
-- night the clocks go back (01:50 on 7 November 2027 in America/Los_Angeles), PostgreSQL takes
-- the second: at 00:50 that night Compose's own suggestion, an hour ahead (01:50), was scheduled
-- two hours ahead (found at that hour, tests/clock/run_at.py). The first is what "01:50" means
-- on a clock that has not gone back yet, and what the Python side reads (zoneinfo, fold=0: the
-- bot, the planner). A time the clocks skip keeps PostgreSQL's reading (the dashboard refuses
-- it before it gets here).
--
-- The candidates are the wall time read with the zone's offset a day before, at, and a day after
-- (changes are months apart); the earliest whose wall time in the zone is the one written wins.
create function public.wall_time_instant(p_wall timestamp, p_zone text) returns timestamptz
  language sql stable parallel safe as $$
  select coalesce(
    (select min(c.at)
       from (values ((p_wall - interval '24 hours') at time zone p_zone + interval '24 hours'),
                    (p_wall at time zone p_zone),
                    ((p_wall + interval '24 hours') at time zone p_zone - interval '24 hours')) c(at)
      where c.at at time zone p_zone = p_wall),
    p_wall at time zone p_zone)
$$;
revoke all on function public.wall_time_instant(timestamp, text) from public, anon;
grant execute on function public.wall_time_instant(timestamp, text)
  to authenticated, medremind_app, service_role;
