-- A patient not linked yet is not unreachable (docs/preferences.md "When no channel can reach
-- the patient").
--
-- Migration 20260101013300 set patients.unreachable_since whenever no contact point of the
-- channel order was usable, and its insert trigger did so for every new patient. A patient a
-- clinic registers to join by an invite link (Telegram, or a number another patient owns) has
-- no contact point until they open the link: they were "unreachable" from the first second,
-- the API said so, the dashboard alarmed ("No reminder can reach this patient since ..."), and
-- each caregiver the clinic had entered was told "Ana can no longer be reached by medication
-- reminders (they turned messages off or blocked them)" about someone nobody had ever reached.
--
-- patients.linked_at: when a contact point of the channel order could first take a reminder
-- (null: not linked yet). Unreachable now means "had one and lost every one": the flip to
-- unreachable (and its caregiver notice) needs linked_at. Until then the patient is neither
-- reachable nor unreachable: the planner records their doses as 'unreachable' (no reminder
-- could go: not reminded, not missed, out of adherence, no caregiver alert) and plans no
-- notice; the first usable contact point sets linked_at and re-plans, so the doses ahead are
-- reminded from then on.

alter table patients add column linked_at timestamptz;
comment on column patients.linked_at is
  'When a contact point of the channel order could first take a reminder (null: not linked yet)';

-- Derived state, as unreachable_since: the contact point that set it is audited on its own.
create or replace function public.audit_changed_columns(p_old jsonb, p_new jsonb) returns text[]
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  select coalesce(array_agg(n.key order by n.key), '{}')
    from jsonb_each(p_new) n
   where p_old -> n.key is distinct from n.value
     and n.key not in ('updated_at', 'locked_by', 'locked_until', 'lease_token', 'attempts',
                       'unreachable_since', 'unreachable_notice_pending', 'linked_at')
$$;

-- As in 20260101013300, but a patient never linked does not become unreachable (nor get a
-- notice), and their first usable contact point links them and re-plans their schedules.
create or replace function public.refresh_patient_reachability(p_patients uuid[]) returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  with states as (
    select p.id, p.unreachable_since is null as was_reachable, p.linked_at is not null as linked,
           public.patient_reachable(p.id) as reachable
      from patients p
     where p.id = any(p_patients) and p.status <> 'deleted'
       for update of p
  ), flipped as (
    update patients p
       set unreachable_since = case when s.reachable then null else now() end,
           unreachable_notice_pending = not s.reachable,
           linked_at = coalesce(p.linked_at, now())
      from states s
     where p.id = s.id
       and (s.reachable and not s.linked or s.linked and s.was_reachable <> s.reachable)
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

-- Who was linked: everyone reachable now, and an unreachable patient who had a contact point
-- on a channel of their order (opted out, blocked or inactive since) or was sent a message.
update patients p
   set linked_at = coalesce(
         (select min(cp.created_at) from contact_points cp
           where cp.patient_id = p.id and cp.channel = any(p.channel_order)),
         p.created_at)
 where p.unreachable_since is null
    or exists (select 1 from contact_points cp
                where cp.patient_id = p.id and cp.channel = any(p.channel_order))
    or exists (select 1 from scheduled_messages m
                where m.patient_id = p.id
                  and m.caregiver_id is null and m.sent_at is not null);

-- The rest never had a channel: not unreachable, and no notice about them goes out. Their
-- doses stay 'unreachable' (not reminded), the plans are redone by the next tick.
with never as (
  update patients p
     set unreachable_since = null, unreachable_notice_pending = false
   where p.linked_at is null and p.unreachable_since is not null
  returning p.id
), notices as (
  update scheduled_messages m
     set status = 'cancelled', last_error = 'the patient has not linked a channel yet'
    from never n
   where m.patient_id = n.id and m.status = 'pending' and m.kind = 'missed_dose_caregiver'
     and m.template = 'patient_unreachable_caregiver'
)
update reminder_schedules s set planned_until = null
  from never n
 where s.patient_id = n.id and s.planned_until is not null;
