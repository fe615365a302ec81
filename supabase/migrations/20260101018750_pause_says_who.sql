-- Who paused a patient's reminders: 'patient' (/pause, the patient app) or 'clinic' (the API's
-- PATCH /patients/{id}, the dashboard). The rows a pause withdraws said who (scheduler/holds.py),
-- but a row held back at its claim or send by a pause already on (a planner tick that read the
-- patient before the pause, a snooze pressed a second earlier, an integration's insert) said only
-- "reminders paused": the claim knew the pause, not who set it, and a clinician reading the
-- patient's messages could not tell whether to call the patient or a colleague. And a merge on
-- an invite kept the pause (20260101018300) but the bot then withdrew what was pending "by the
-- patient", also when the clinic had paused.
--
-- Null: not paused, or paused before this column (who is not known: held rows keep the plain
-- "reminders paused").
alter table public.patients add column reminders_paused_by text
  check (reminders_paused_by in ('patient', 'clinic'));

comment on column public.patients.reminders_paused_by is
  'Who paused the reminders: patient or clinic (null: not paused, or not known).';

-- Who belongs to the pause, as its end does (20260101018260): whoever unpauses, both go.
create or replace function public.pause_end_follows_pause() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  if not new.reminders_paused then
    new.reminders_paused_until := null;
    new.reminders_paused_by := null;
  end if;
  return new;
end
$$;
drop trigger patients_pause_end_follows_pause on public.patients;
create trigger patients_pause_end_follows_pause
  before insert or update of reminders_paused, reminders_paused_until, reminders_paused_by
  on public.patients
  for each row execute function public.pause_end_follows_pause();

-- The merge keeps the pause that lasts longer (20260101018300), and now who set that one. Two
-- pauses as long as each other: the clinic record's (p_into), whose pause may be the clinic's.
create or replace function public.merge_patient(p_from uuid, p_into uuid, p_at timestamptz)
  returns void language plpgsql set search_path = public, pg_temp as $$
-- Merge record p_from (the person's own, self-registered) into p_into (the clinic's record that
-- invited them): merge_patient_rows, keeping the pause of either that lasts longer, and who set it.
declare
  paused boolean;
  ends timestamptz;
  who text;
begin
  -- Locked first, as merge_patient_rows locks them: a /pause landing in between waits.
  perform 1 from public.patients where id in (p_from, p_into) order by id for update;
  -- An end belongs to its pause (20260101018260's trigger clears it on a record not paused).
  select coalesce(bool_or(reminders_paused), false),
         case when bool_or(reminders_paused and reminders_paused_until is null) then null
              else max(reminders_paused_until) end
    into paused, ends
    from public.patients where id in (p_from, p_into);
  -- The kept pause's row: open-ended first, then the later end; a tie goes to p_into.
  select reminders_paused_by into who
    from public.patients
   where id in (p_from, p_into) and reminders_paused
   order by reminders_paused_until is null desc, reminders_paused_until desc nulls last,
            id = p_into desc
   limit 1;
  perform public.merge_patient_rows(p_from, p_into, p_at);
  update public.patients
     set reminders_paused = paused, reminders_paused_until = ends, reminders_paused_by = who
   where id = p_into;
end
$$;

revoke all on function public.merge_patient(uuid, uuid, timestamptz)
  from public, anon, authenticated;
grant execute on function public.merge_patient(uuid, uuid, timestamptz)
  to medremind_app, service_role;

-- The claim cache holds who paused (it words a held row's reason): a change of who alone, a
-- clinic pausing a patient the patient had paused, must reach the workers as a change of the
-- pause does (20260101015240, plus reminders_paused_by).
create or replace function public.claim_cache_patients_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'DELETE' then
    perform claim_cache_notify('p', array(select distinct o.id from old_rows o));
  else
    perform claim_cache_notify('p', array(
      select x.id
        from (select n.id, n.locale, n.timezone, n.display_name, n.quiet_start, n.quiet_end,
                     n.name_medicine_in_reminders, n.status, n.reminders_paused,
                     n.reminders_paused_by, n.consent_at, n.organization_id, n.channel_order
                from new_rows n
              union all
              select o.id, o.locale, o.timezone, o.display_name, o.quiet_start, o.quiet_end,
                     o.name_medicine_in_reminders, o.status, o.reminders_paused,
                     o.reminders_paused_by, o.consent_at, o.organization_id, o.channel_order
                from old_rows o) x
       group by x.id
      having count(distinct (x.locale, x.timezone, x.display_name, x.quiet_start, x.quiet_end,
                             x.name_medicine_in_reminders, x.status, x.reminders_paused,
                             x.reminders_paused_by, x.consent_at, x.organization_id,
                             x.channel_order)) > 1
       order by x.id));
  end if;
  return null;
end
$$;
revoke all on function public.claim_cache_patients_changed() from public, anon, authenticated;
