-- A caregiver's missed-dose alerts already planned are withdrawn when the caregiver opts out or
-- is removed, whoever does it.
--
-- An alert waits alert_delay_minutes after the miss (and the caregiver's quiet hours) as a
-- pending row. Before, only the caregiver's own STOP in the bot cancelled it; every other path
-- left it pending until it fell due and the claim failed it ("the caregiver is inactive, opted
-- out or unreachable"): a clinician who records the opt-out or removes the caregiver (the
-- dashboard, through Supabase), the patient who removes or replaces the caregiver (/settings:
-- active = false), the carrier's 21610 (dispatch.sql deactivate_contacts), an address moved to
-- one that opted out (migration 20260101012200). Now one trigger covers them all: the
-- caregiver's pending alerts are cancelled at once, with the reason, for every caregiver row of
-- the address (a person who is the caregiver of several patients opted out of the number).
--
-- Rows a worker has claimed ('processing') are left to its lease: its check right before the
-- send reads the caregiver again (dispatch.sql hold_at_send) and puts an opted-out or removed
-- caregiver's alert back unsent, which the next claim then ends. A deleted caregiver's alerts go
-- with it (scheduled_messages.caregiver_id: on delete cascade). START, or the caregiver made
-- active again, plans nothing anew: the next missed dose alerts them.
-- A block (blocked_at: the bot blocked, an invalid number) is not an opt-out: its alerts stay and
-- fail with the reason when they fall due, unless the caregiver writes to the service first.

create function public.withdraw_caregiver_alerts() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  -- A clinician's update must withdraw them too, whatever it may write itself (security definer).
  update public.scheduled_messages
     set status = 'cancelled',
         last_error = case when not new.active then 'the caregiver was removed'
                           else 'the caregiver opted out' end
   where caregiver_id = new.id and status = 'pending';
  return null;
end
$$;
revoke all on function public.withdraw_caregiver_alerts() from public, anon, authenticated;

-- Every update, not "update of opted_out_at, active": an address moved to one that opted out
-- gets its opted_out_at from a BEFORE trigger, which "update of" would not see.
create trigger caregivers_withdraw_planned_alerts
  after update on caregivers
  for each row when ((old.opted_out_at is null and new.opted_out_at is not null)
                     or (old.active and not new.active))
  execute function public.withdraw_caregiver_alerts();
