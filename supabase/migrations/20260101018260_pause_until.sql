-- A pause with an end: "/pause 3 days", "/pause until 3/15" (bot/dialogs/account.py) stored the
-- pause only, and a patient who forgot /resume missed every dose after it. The instant it ends
-- (null: open-ended, as a plain /pause); the planner's tick resumes the patient once it passes
-- (scheduler/pause_ends.py), by the same path as /resume.
alter table public.patients add column reminders_paused_until timestamptz;

comment on column public.patients.reminders_paused_until is
  'When a pause with a length or an end date ends by itself (null: open-ended or not paused).';

-- The tick's question, "whose pause has ended by now?", reads only the few patients paused with
-- an end, not every patient.
create index patients_pause_ends on public.patients (reminders_paused_until)
  where reminders_paused and reminders_paused_until is not null;

-- An end belongs to the pause it was set with: whoever unpauses (/resume, the patient app, a
-- merge or an erasure that sets reminders_paused = false), the end goes too, so a later plain
-- pause never inherits it.
create function public.pause_end_follows_pause() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  if not new.reminders_paused then
    new.reminders_paused_until := null;
  end if;
  return new;
end
$$;
create trigger patients_pause_end_follows_pause
  before insert or update of reminders_paused, reminders_paused_until on public.patients
  for each row execute function public.pause_end_follows_pause();
