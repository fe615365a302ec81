-- Planner support: the patient's pinned home timezone, schedules marked for re-planning when
-- anything that shapes their reminders changes, refill reminders re-armed by a refill, and the
-- index the nag scan walks.

-- The zone a 'home'-mode patient's reminders stay in while travelling. Null until the planner
-- first plans for the patient (it then pins patients.timezone), or set by whoever knows the
-- patient moved house; patients.timezone itself is where the patient is now.
alter table patients add column home_timezone text;

-- Any change that shapes a schedule's reminders marks it for re-planning (planned_until = null),
-- so the planner's next tick cancels what is no longer wanted and creates the rest, whoever made
-- the change (bot, dashboard, API). A change of the rule itself also bumps the version, which is
-- part of each reminder's idempotency key.
create function public.schedule_needs_replan() returns trigger language plpgsql as $$
begin
  if (new.times_of_day, new.days_of_week, new.every_n_days, new.start_date, new.end_date,
      new.max_count, new.timezone, new.medication_id)
     is distinct from
     (old.times_of_day, old.days_of_week, old.every_n_days, old.start_date, old.end_date,
      old.max_count, old.timezone, old.medication_id) then
    if new.version = old.version then
      new.version := old.version + 1;
    end if;
    new.planned_until := null;
  elsif new.status is distinct from old.status then
    new.planned_until := null;
  end if;
  return new;
end
$$;
create trigger reminder_schedules_needs_replan before update on reminder_schedules
  for each row execute function public.schedule_needs_replan();

-- Patient settings that move or stop reminders. Pinning the home zone for the first time is not
-- a change of where reminders fall, so it does not count. Quiet hours and nag settings shape only
-- follow-ups, which the planner reconciles for every open dose on each tick.
create function public.patient_schedules_need_replan() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if (new.timezone, new.timezone_mode, new.reminders_paused, new.status, new.consent_at is null)
     is distinct from
     (old.timezone, old.timezone_mode, old.reminders_paused, old.status, old.consent_at is null)
     or (old.home_timezone is not null and new.home_timezone is distinct from old.home_timezone)
  then
    update public.reminder_schedules set planned_until = null
     where patient_id = new.id and planned_until is not null;
  end if;
  return null;
end
$$;
create trigger patients_schedules_need_replan after update on patients
  for each row execute function public.patient_schedules_need_replan();

-- A medication paused, resumed or deleted stops or restarts its schedules.
create function public.medication_schedules_need_replan() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if new.status is distinct from old.status then
    update public.reminder_schedules set planned_until = null
     where medication_id = new.id and planned_until is not null;
  end if;
  return null;
end
$$;
create trigger medications_schedules_need_replan after update of status on medications
  for each row execute function public.medication_schedules_need_replan();

-- A refill (the pill count going up) re-arms the refill reminder for the next time it runs low.
create function public.rearm_refill_reminder() returns trigger language plpgsql as $$
begin
  if new.pill_count is not null
     and (old.pill_count is null or new.pill_count > old.pill_count) then
    new.refill_reminded_at := null;
  end if;
  return new;
end
$$;
create trigger medications_rearm_refill before update of pill_count on medications
  for each row execute function public.rearm_refill_reminder();

-- Open doses (still waiting for an answer): what the nag and missed-dose scan reads every tick.
create index dose_events_open_idx on dose_events (due_at) where status in ('due', 'snoozed');
-- Schedules to (re-)plan: never planned, marked stale, or running out of horizon.
create index reminder_schedules_stale_idx on reminder_schedules (id) where planned_until is null;
