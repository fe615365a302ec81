-- A patient is linked once something reached them (docs/preferences.md "When no channel can
-- reach the patient").
--
-- Migration 20260101013600 set patients.linked_at when a contact point of the channel order
-- could first take a reminder: a number a clinic typed counted. A wrong number (a typo, a
-- landline) was "linked" at its insert; the carrier refused it at the first reminder (Twilio
-- 21211, 21614: the contact point made inactive), the patient became unreachable, and each
-- caregiver was told "Ana can no longer be reached by medication reminders (they turned
-- messages off or blocked them)" about someone nothing had ever reached.
--
-- Now linked_at is when a message first reached the patient, on any channel (a send the
-- provider took: the message 'sent' or 'delivered'; not a caregiver's alert), or when the
-- patient first wrote to the service (the bot links them at the turn: bot.sql link_patient, and
-- a patient the bot registers is linked then). A contact point typed by a clinic does not link.
--   * Reminders do not wait for the link: the planner reminds a patient not linked yet whenever
--     a contact point of their order is usable (planner.sql: reachable), which is how the first
--     one can reach them.
--   * Unreachable still needs linked_at (20260101013600): a patient not linked yet whose
--     contact points all fail is not unreachable and no caregiver is told; their doses are
--     recorded 'unreachable' (no reminder could go). The dashboard says "Not linked yet".
--   * When the link comes while no channel is usable (a delivery reported after the number was
--     refused; a STOP that is the patient's first message), the rule applies at once: they are
--     unreachable, and the caregivers are told once.
--   * A change of a not-linked patient's contact points re-plans them (a fixed number is
--     reminded from then on) and, as at the flip back of 20260101013700, records 'unreachable'
--     the open doses whose reminder could not go (the wrong number's refused reminder): not
--     missed, nobody alerted.

comment on column patients.linked_at is
  'When a message first reached the patient (on any channel) or they first wrote to the service (null: not linked yet)';

-- The planner asks it for a patient not linked yet (planner.sql).
grant execute on function public.patient_reachable(uuid) to medremind_app;

-- As in 20260101013700, but linked_at is not this function's: it flips only a linked patient,
-- and a patient not linked yet is re-planned (see above).
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
           unreachable_notice_pending = not s.reachable
      from states s
     where p.id = s.id and s.linked and s.was_reachable <> s.reachable
    returning p.id, p.unreachable_since
  ), moved as (
    -- Flipped, or not linked yet (whether a reminder can go to them may have changed).
    select f.id, f.unreachable_since is null as back from flipped f
    union all
    select s.id, true from states s where not s.linked
  ), replan as (
    update reminder_schedules s set planned_until = null
      from moved f
     where s.patient_id = f.id and s.planned_until is not null
  ), unreached as (
    -- The doses kept from their reminder are not missed (20260101013700).
    update dose_events d
       set status = 'unreachable'
      from moved f
     where f.back and d.patient_id = f.id
       and d.status in ('due', 'snoozed')
       and (select m.status from scheduled_messages m
             where m.dose_event_id = d.id and m.kind = 'medication_reminder'
             order by m.scheduled_time desc, m.created_at desc
             limit 1) in ('failed', 'expired', 'cancelled')
    returning d.id
  ), unreached_messages as (
    update scheduled_messages m
       set status = 'cancelled', last_error = 'the patient cannot be reached'
      from unreached u
     where m.dose_event_id = u.id and m.status = 'pending'
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

-- Who was reached: the first message sent to the patient (not to a caregiver), the first
-- message from a contact point of theirs, the first conversation bound to them (a chat that
-- wrote: every patient the bot registered has one). Everyone else is not linked yet.
with reached as (
  select p.id,
         least((select min(m.sent_at) from scheduled_messages m
                 where m.patient_id = p.id and m.caregiver_id is null
                   and m.sent_at is not null),
               (select min(cp.last_inbound_at) from contact_points cp where cp.patient_id = p.id),
               (select min(greatest(c.created_at, p.created_at)) from conversations c
                 where c.patient_id = p.id)) as at
    from patients p
)
update patients p
   set linked_at = r.at
  from reached r
 where p.id = r.id and p.linked_at is distinct from r.at;

-- Not reached, yet "unreachable" (a typed number refused, a STOP by no message of theirs): not
-- unreachable, and no notice about them goes out.
with never as (
  update patients p
     set unreachable_since = null, unreachable_notice_pending = false
   where p.linked_at is null and p.unreachable_since is not null
  returning p.id
), notices as (
  update scheduled_messages m
     set status = 'cancelled', last_error = 'nothing has reached the patient yet'
    from never n
   where m.patient_id = n.id and m.status = 'pending' and m.kind = 'missed_dose_caregiver'
     and m.template = 'patient_unreachable_caregiver'
)
update reminder_schedules s set planned_until = null
  from never n
 where s.patient_id = n.id and s.planned_until is not null;

-- Reached, and no channel usable now, but not marked (20260101013600 left them "not linked"):
-- unreachable from now, with no notice for the past (as 20260101013300 did).
with lost as (
  update patients p
     set unreachable_since = now()
   where p.linked_at is not null and p.unreachable_since is null and p.status <> 'deleted'
     and not public.patient_reachable(p.id)
  returning p.id
)
update reminder_schedules s set planned_until = null
  from lost l
 where s.patient_id = l.id and s.planned_until is not null;

-- The first send that reached the patient links them. One statement trigger per insert or
-- update (the dispatcher records a batch in one statement): a look at its rows, and a key
-- lookup of the few patients not linked yet among them (a partial index).
create index patients_not_linked_idx on patients (id) where linked_at is null;

create function public.scheduled_messages_link_patients() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  update patients p
     set linked_at = r.at
    from (select n.patient_id, min(coalesce(n.sent_at, n.delivered_at, now())) as at
            from reached_rows n
           where n.status in ('sent', 'delivered') and n.caregiver_id is null
             and n.patient_id is not null
           group by n.patient_id) r
   where p.id = r.patient_id and p.linked_at is null;
  return null;
end
$$;
revoke all on function public.scheduled_messages_link_patients()
  from public, anon, authenticated;

create trigger scheduled_messages_link_patients_sent after update on public.scheduled_messages
  referencing new table as reached_rows
  for each statement execute function public.scheduled_messages_link_patients();
create trigger scheduled_messages_link_patients_added after insert on public.scheduled_messages
  referencing new table as reached_rows
  for each statement execute function public.scheduled_messages_link_patients();

-- Linked while no channel is usable: unreachable at once (see above).
create trigger patients_reachability_linked after update of linked_at on public.patients
  for each row when (old.linked_at is null and new.linked_at is not null)
  execute function public.patients_reachability();
