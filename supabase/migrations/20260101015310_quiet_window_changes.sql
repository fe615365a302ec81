-- A change of a quiet window, whoever makes it, is noted for the planner, which judges again the
-- messages waiting out the old window (scheduler/quiet_release.py).
--
-- The bot's /settings and the API re-time such messages in the change's own transaction. The
-- dashboard's Settings page writes the clinic's default window straight into organizations (as
-- role authenticated), and a clinician may write a patient's window or a caregiver's zone
-- through Supabase: a message deferred to the old window's end waited for it. Each such change
-- now leaves a row here, and the planner's next pass (every MEDREMIND_PLANNER_INTERVAL seconds)
-- takes the rows and re-times the messages at its own clock. Only what decides a window counts:
-- a clinic's default_quiet_start/_end, a patient's quiet_start/_end and timezone, a caregiver's
-- timezone (that caregiver's patient's messages). The WHEN clauses read columns only: other
-- updates of these tables never call the function.
create table public.quiet_window_changes (
  id bigint generated always as identity primary key,
  organization_id uuid references public.organizations (id) on delete cascade,
  patient_id uuid references public.patients (id) on delete cascade,
  check (num_nonnulls(organization_id, patient_id) = 1)
);
-- The foreign keys' own indexes (a clinic or patient deleted, a merge moving a patient's rows).
create index quiet_window_changes_organization_idx on public.quiet_window_changes (organization_id)
  where organization_id is not null;
create index quiet_window_changes_patient_idx on public.quiet_window_changes (patient_id)
  where patient_id is not null;
comment on table public.quiet_window_changes is
  'Quiet windows changed since the planner last re-timed the messages deferred by them';

alter table public.quiet_window_changes enable row level security;
alter table public.quiet_window_changes force row level security;
revoke all on public.quiet_window_changes from public, anon, authenticated;
-- update: a merge moves every row that names the patient it merges (merge_patient).
grant select, insert, update, delete on public.quiet_window_changes to medremind_app;
create policy quiet_window_changes_service on public.quiet_window_changes
  for all to medremind_app using (true) with check (true);
grant all on public.quiet_window_changes to service_role;

-- Security definer: the dashboard's role may not write the table, and need not.
create function public.note_quiet_window_change() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_table_name = 'organizations' then
    insert into quiet_window_changes (organization_id) values (new.id);
  elsif tg_table_name = 'patients' then
    insert into quiet_window_changes (patient_id) values (new.id);
  else  -- caregivers: their patient's messages
    insert into quiet_window_changes (patient_id) values (new.patient_id);
  end if;
  return null;
end
$$;
revoke all on function public.note_quiet_window_change() from public;

create trigger organizations_quiet_window_changed
  after update of default_quiet_start, default_quiet_end on public.organizations
  for each row
  when ((old.default_quiet_start, old.default_quiet_end)
        is distinct from (new.default_quiet_start, new.default_quiet_end))
  execute function public.note_quiet_window_change();

create trigger patients_quiet_window_changed
  after update of quiet_start, quiet_end, timezone on public.patients
  for each row
  when ((old.quiet_start, old.quiet_end, old.timezone)
        is distinct from (new.quiet_start, new.quiet_end, new.timezone))
  execute function public.note_quiet_window_change();

create trigger caregivers_quiet_window_changed
  after update of timezone on public.caregivers
  for each row
  when (old.timezone is distinct from new.timezone)
  execute function public.note_quiet_window_change();
