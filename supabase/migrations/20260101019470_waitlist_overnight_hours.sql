-- Waitlist hours may cross midnight.
--
-- A waitlist entry's window (earliest, latest) is the patient's wall clock, and was refused
-- unless earliest < latest (migration 20260101008720). So "From 23:30 Until 01:00" could not be
-- said, and since the hours are the patient's own, a patient in St John's could not wait for a
-- Kathmandu clinic's mornings (08:00-12:00 there is 22:45-02:45 in St John's in winter).
--
-- Now a window whose end is before its start is overnight: from earliest on one day until latest
-- on the next; the part after midnight belongs to the day it started on (days_of_week names that
-- day: Monday 23:30-01:00 holds Tuesday 00:15). core/sql/waitlist.sql fitting_entries matches
-- it so; docs/api.md, "Waitlist hours".
--
-- Equal ends stay refused: a window from 09:00 to 09:00 is either no time at all (nothing fits)
-- or the whole day, and neither is what choosing two times says; "any hour" is both left empty.
-- Every row stored satisfies it (they were earliest < latest).

alter table public.waitlist_entries drop constraint waitlist_entries_check;
alter table public.waitlist_entries add constraint waitlist_entries_hours_differ
  check (earliest is null or latest is null or earliest <> latest);
