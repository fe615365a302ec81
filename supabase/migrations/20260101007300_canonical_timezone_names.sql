-- Timezone names stored in another case than their IANA name ('europe/madrid'): the dashboard
-- accepted them until now (Intl matches zone names in any case), but the planner loads zones with
-- Python's zoneinfo, which does not, so such a patient's schedules were "not plannable" and the
-- patient got no reminders at all. Each is rewritten to the one IANA name it matches ignoring
-- case (a name that matches none, or several, is left for a person to look at). Rewriting a
-- patient's zone marks their schedules for re-planning (patients_schedules_need_replan).
-- The dashboard now stores the canonical name (dashboard/src/lib/time.ts canonicalTimezone).

create temporary table iana_names_by_fold on commit drop as
  select lower(name) as folded, min(name) as name
    from pg_timezone_names
   group by lower(name)
  having count(*) = 1;

update organizations t set timezone = n.name
  from iana_names_by_fold n
 where lower(t.timezone) = n.folded and t.timezone <> n.name;

update patients t set timezone = n.name
  from iana_names_by_fold n
 where lower(t.timezone) = n.folded and t.timezone <> n.name;

update patients t set home_timezone = n.name
  from iana_names_by_fold n
 where lower(t.home_timezone) = n.folded and t.home_timezone <> n.name;

update reminder_schedules t set timezone = n.name
  from iana_names_by_fold n
 where lower(t.timezone) = n.folded and t.timezone <> n.name;
