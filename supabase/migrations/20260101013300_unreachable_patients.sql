-- A patient no reminder can reach (docs/preferences.md "When no channel can reach the patient").
--
-- A patient who sent STOP on their only channel (SMS, WhatsApp, Telegram's /stop), blocked the
-- Telegram bot, or whose number the carrier refuses, got no reminder any more, yet every dose was
-- still marked missed and every caregiver alerted for each one, indefinitely: the clinic's
-- adherence counted doses nobody was reminded of, and a caregiver was texted "has not confirmed"
-- several times a day about someone who had merely turned the messages off.
--
-- patients.unreachable_since: since when no contact point of the patient's channel order is
-- usable (active, not opted out, not blocked), kept by triggers whoever changes a contact point
-- or the order (the bot's STOP/START, the dispatcher's permanent errors, a clinician, a merge).
-- While it is set the planner plans the patient's doses as 'unreachable' (a status of their own:
-- no reminder, no nag, not missed, no per-dose caregiver alert) and the dose at hand whose
-- reminder did not go out ends 'unreachable' too. When it flips:
--   * to unreachable: the schedules are re-planned (future doses become 'unreachable', their
--     reminders cancelled), and the planner gives each caregiver who would be alerted of a
--     missed dose one notice (kind missed_dose_caregiver, template
--     patient_unreachable_caregiver), after their alert_delay_minutes, at most one a day per
--     caregiver and patient (unreachable_notice_pending marks the spell for it);
--   * back (START, unblocking the bot, a new or fixed contact point): the schedules are
--     re-planned from now (doses ahead are reminded again; those of the past stay
--     'unreachable': no flood of stale reminders) and a notice not yet sent is cancelled.

alter table dose_events drop constraint dose_events_status_check;
alter table dose_events add constraint dose_events_status_check
  check (status in ('due', 'taken', 'snoozed', 'skipped', 'missed', 'cancelled', 'unreachable'));

alter table patients add column unreachable_since timestamptz;
comment on column patients.unreachable_since is
  'Since when no contact point of the channel order can take a reminder (null: reachable)';
-- The caregivers' notice of this unreachable spell is still to be planned: the planner plans it
-- at its own clock (planner.sql plan_unreachable_notices) and clears the mark.
alter table patients add column unreachable_notice_pending boolean not null default false;
create index patients_unreachable_notice_idx on patients (id) where unreachable_notice_pending;

-- The two columns are the service's derived state, not anybody's change of the patient: the
-- change that moved them (a contact point's, the channel order) is audited on its own.
create or replace function public.audit_changed_columns(p_old jsonb, p_new jsonb) returns text[]
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  select coalesce(array_agg(n.key order by n.key), '{}')
    from jsonb_each(p_new) n
   where p_old -> n.key is distinct from n.value
     and n.key not in ('updated_at', 'locked_by', 'locked_until', 'lease_token', 'attempts',
                       'unreachable_since', 'unreachable_notice_pending')
$$;

-- Whether some contact point of the patient's channel order can take a reminder, as the
-- dispatcher's routing reads them (dispatch.sql claim_patients contact_usable).
create function public.patient_reachable(p_patient uuid) returns boolean
  language sql stable security definer set search_path = public, pg_temp as $$
  select exists (
    select 1
      from contact_points cp
      join patients p on p.id = cp.patient_id
     where cp.patient_id = p_patient and cp.active and cp.opted_out_at is null
       and cp.blocked_at is null and cp.channel = any(p.channel_order))
$$;
revoke all on function public.patient_reachable(uuid) from public, anon, authenticated;

-- The flip of patients ($1) whose reachability changed, and what follows from it (see above).
create function public.refresh_patient_reachability(p_patients uuid[]) returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  with states as (
    select p.id, p.unreachable_since is null as was_reachable,
           public.patient_reachable(p.id) as reachable
      from patients p
     where p.id = any(p_patients) and p.status <> 'deleted'
       for update of p
  ), flipped as (
    update patients p
       set unreachable_since = case when s.reachable then null else now() end,
           unreachable_notice_pending = not s.reachable
      from states s
     where p.id = s.id and s.was_reachable <> s.reachable
    returning p.id, p.unreachable_since
  ), replan as (
    update reminder_schedules s set planned_until = null
      from flipped f
     where s.patient_id = f.id and s.planned_until is not null
  )
  -- Back before the notice went out: it is not sent.
  update scheduled_messages m
     set status = 'cancelled', last_error = 'the patient can be reached again'
    from flipped f
   where f.unreachable_since is null and m.patient_id = f.id and m.status = 'pending'
     and m.kind = 'missed_dose_caregiver' and m.template = 'patient_unreachable_caregiver';
end
$$;
revoke all on function public.refresh_patient_reachability(uuid[])
  from public, anon, authenticated;

create function public.contact_points_reachability() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.refresh_patient_reachability(array_remove(array[
    case when tg_op <> 'INSERT' then old.patient_id end,
    case when tg_op <> 'DELETE' then new.patient_id end], null));
  return null;
end
$$;
revoke all on function public.contact_points_reachability() from public, anon, authenticated;

create function public.patients_reachability() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform public.refresh_patient_reachability(array[new.id]);
  return null;
end
$$;
revoke all on function public.patients_reachability() from public, anon, authenticated;

create trigger contact_points_reachability_added after insert or delete on contact_points
  for each row execute function public.contact_points_reachability();
-- Every update whose outcome changes usability: a BEFORE trigger may set opted_out_at itself.
create trigger contact_points_reachability_changed after update on contact_points
  for each row when ((old.active, old.opted_out_at is null, old.blocked_at is null, old.channel,
                      old.patient_id)
                     is distinct from
                     (new.active, new.opted_out_at is null, new.blocked_at is null, new.channel,
                      new.patient_id))
  execute function public.contact_points_reachability();
create trigger patients_reachability_added after insert on patients
  for each row execute function public.patients_reachability();
create trigger patients_reachability_changed after update on patients
  for each row when (old.channel_order is distinct from new.channel_order)
  execute function public.patients_reachability();

-- Who is unreachable now: the patient's own state, no notices for the past (the caregivers of
-- a patient unreachable before this migration hear nothing new), plans redone by the next tick.
update patients p set unreachable_since = now()
 where p.status <> 'deleted' and not public.patient_reachable(p.id);
update reminder_schedules s set planned_until = null
  from patients p
 where p.id = s.patient_id and p.unreachable_since is not null and s.planned_until is not null;
