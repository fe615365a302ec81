-- Planner support: the home timezone a schedule was pinned to, refill reminders re-armed by a
-- refill, and the index the nag scan walks.

-- True when the planner (not a person) filled reminder_schedules.timezone with the patient's home
-- zone because the patient keeps home times when travelling ('home' mode). A pinned zone may be
-- unpinned or moved by the planner; an explicit one (pinned = false) is never touched.
alter table reminder_schedules
  add column timezone_pinned boolean not null default false;

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
