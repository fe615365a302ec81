-- A reminder schedule's dates run from 1900-01-01 to 9998-12-31, in the database too.
--
-- The API refuses other dates since FHIR imports stored a boundsPeriod.start of 0001-01-01 as
-- -infinity (asyncpg writes Python's first and last dates so; the dashboard showed "from
-- -infinity") and an end of 9999-12-31 as infinity (scheduler/fhir_elements.py FIRST_DATE,
-- LAST_DATE). The rows stored before were left as they were, and nothing in the database held
-- another writer to the range. Each is repaired here to the dates that give the patient the same
-- reminders as the planner gave them (it reads -infinity as 0001-01-01 and infinity as
-- 9999-12-31, asyncpg's decoding), then the range becomes a CHECK on every row:
--
-- * An end after 9998-12-31 (infinity, 9999-12-31: how many systems write "no end") is no end:
--   null. The planner treats both alike.
-- * A start before 1900-01-01 (-infinity, the year 1) is moved to the first date of the
--   schedule's own day grid on or after 1900-01-01, so an every-N-days schedule keeps its days
--   (they are counted from the start), and its max_count loses the doses its chosen dates fired
--   before that date, so it ends on the same dose. A count used up before 1900 (and an end
--   before 1900) ends the schedule on the new start's day, long past: nothing more is planned,
--   as before. (A local date a zone skipped before 1900, Manila's 1844-12-31, is counted here
--   as a date that fired: such a schedule ends one dose sooner. None is known to exist.)
-- * A start after 9998-12-31 (infinity) is 9998-12-31: nothing fires before either way.
-- Changing a schedule's dates marks it for re-planning (reminder_schedules_needs_replan).

-- Doses a schedule's chosen dates fire on the grid dates in [first, before): grid dates are every
-- `step` days from `first` (`before` is on the grid); on `days_of_week` only when given; each
-- fires every time of the day. The weekday of the k-th grid date repeats every 7 values of k.
create function pg_temp.doses_before(
  first date, before date, step integer, days smallint[], per_day integer
) returns bigint language sql immutable as $$
  select per_day::bigint * case
    when days is null then (before - first) / step
    else (select coalesce(sum(((before - first) / step - j + 6) / 7), 0)
            from generate_series(0, 6) j
           where j < (before - first) / step
             and extract(isodow from first + j * step)::smallint = any (days))
  end
$$;

create temporary table schedule_date_repairs on commit drop as
  select s.id, s.start_date, s.end_date, s.max_count,
         case when s.start_date = '-infinity' then date '0001-01-01' else s.start_date end
           as anchor,
         coalesce(s.every_n_days, 1) as step, s.days_of_week,
         cardinality(s.times_of_day) as per_day
    from reminder_schedules s
   where s.start_date < date '1900-01-01';

alter table schedule_date_repairs add column new_start date, add column fired bigint;
update schedule_date_repairs
   set new_start = date '1900-01-01' + ((anchor - date '1900-01-01') % step + step) % step;
update schedule_date_repairs
   set fired = pg_temp.doses_before(anchor, new_start, step, days_of_week, per_day);

update reminder_schedules s
   set start_date = r.new_start,
       max_count = case when s.max_count > r.fired then (s.max_count - r.fired)::integer
                        else s.max_count end,
       end_date = case when s.max_count <= r.fired or s.end_date < r.new_start then r.new_start
                       else s.end_date end
  from schedule_date_repairs r
 where s.id = r.id;

update reminder_schedules set end_date = null where end_date > date '9998-12-31';
update reminder_schedules set start_date = date '9998-12-31'
 where start_date > date '9998-12-31';

alter table reminder_schedules add constraint reminder_schedules_dates_in_range check (
  start_date between date '1900-01-01' and date '9998-12-31'
  and (end_date is null or end_date between date '1900-01-01' and date '9998-12-31')
);
comment on constraint reminder_schedules_dates_in_range on reminder_schedules is
  'A schedule runs from 1900-01-01 to 9998-12-31 (scheduler/fhir_elements.py FIRST_DATE, '
  'LAST_DATE); leave end_date null for no end.';
