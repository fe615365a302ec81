-- refresh_patient_reachability locks the patient FOR NO KEY UPDATE, not FOR UPDATE (as in
-- 20260101013800 otherwise unchanged). FOR UPDATE also blocks FOR KEY SHARE, the lock every
-- foreign key check takes on the row it points to: while a transaction held it, any other
-- transaction inserting a row that names the patient (a scheduled message, a dose event) waited
-- for its commit.
--
-- A patient's first button press links them (bot.sql link_patient), and the update of
-- patients.linked_at runs this function through patients_reachability_linked: the turn held
-- the patient FOR UPDATE until it committed. Two patients offered one waitlist slot pressing
-- Accept at once deadlocked: the loser's turn, holding its patient, waited in
-- accept_slot_offer for the offer row; the winner's turn, holding the offer, inserted the
-- loser's "the slot is gone" message and waited for the loser's patient (its foreign key
-- check). PostgreSQL broke the cycle by failing one turn, whose patient was told "something
-- went wrong" (tests/web/test_waitlist.py under load; tests/bot/test_concurrent_turns.py forces
-- the interleaving).
--
-- FOR NO KEY UPDATE still serializes the function's callers for one patient (it conflicts with
-- itself and with FOR UPDATE), and it is what the function's own update of the row takes: no
-- key changes. An insert naming the patient no longer waits for it.
create or replace function public.refresh_patient_reachability(p_patients uuid[]) returns void
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  with states as (
    select p.id, p.unreachable_since is null as was_reachable, p.linked_at is not null as linked,
           public.patient_reachable(p.id) as reachable
      from patients p
     where p.id = any(p_patients) and p.status <> 'deleted'
       for no key update of p
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
