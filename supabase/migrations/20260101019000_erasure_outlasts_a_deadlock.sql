-- An erasure that met a bot turn in flight failed (session 35). erase_patient locks the patient's
-- row, then unlinks their chats' conversations; a turn locks its chat's conversation first, then
-- writes a row for the patient, whose foreign key (and patient_row_not_erased, migration
-- 20260101018950) waits for the patient's row. Each then waited for the other, and PostgreSQL
-- broke the deadlock by failing whichever had waited longer: the turn runs again by itself
-- (bot/intake.py), but the erasure, which had waited first, failed whole: the clinic's DELETE
-- answered 500, the dashboard's request said it could not erase, the patient stayed.
--
-- erase_patient now takes the locks in a turn's order: the conversations of the patient's chats
-- first, then (in its body, renamed erase_patient_once) the patient's row. A turn of theirs in
-- flight finishes and commits, then the erasure deletes what it wrote; a turn that comes after
-- waits for the erasure and finds its chat nobody's. Other orders remain (an invite or a
-- caregiver link locked by a turn whose chat is not yet the patient's, a turn that upgrades its
-- lock on the patient's row while the erasure waits for it): the body runs in a subtransaction,
-- and again when PostgreSQL chose it to break a deadlock; the subtransaction's locks go with it,
-- so the other transaction goes on. Before it runs again, the erasure waits for the patient's
-- row without queueing for it (SKIP LOCKED, polled): a waiter in the row's queue holds its
-- tuple lock, and the other transaction, upgrading its own lock on the row (a contact point's
-- insert refreshes the patient's reachability), would wait for that: a second deadlock. Only a
-- deadlock is retried, a few times; anything else is raised as before.
-- A later migration that rewrites the erasure rewrites erase_patient_once, not this.
-- tests/bot/test_intake.py holds it (an erasure meeting a turn that holds the chat).
alter function public.erase_patient(uuid, text, timestamptz) rename to erase_patient_once;

create function public.erase_patient(p_patient uuid, p_reason text, p_at timestamptz)
  returns void language plpgsql as $$
declare
  tries int := 0;
begin
  perform from public.conversations where patient_id = p_patient order by id for update;
  loop
    begin
      perform public.erase_patient_once(p_patient, p_reason, p_at);
      return;
    exception when deadlock_detected then
      tries := tries + 1;
      if tries >= 5 then
        raise;
      end if;
    end;
    -- Up to 10 s for the other transaction to end (a turn takes milliseconds); a patient deleted
    -- meanwhile (a self-registered one's own /delete_me) ends the wait, and the body returns.
    -- Asleep first: the other transaction, woken by the subtransaction's end, locks the row
    -- again; found free before that, the row would be ours and the deadlock the same.
    for poll in 1..200 loop
      perform pg_sleep(0.05);
      perform from public.patients where id = p_patient for update skip locked;
      exit when found or not exists (select from public.patients where id = p_patient);
    end loop;
  end loop;
end
$$;
revoke all on function public.erase_patient(uuid, text, timestamptz) from public;
grant execute on function public.erase_patient(uuid, text, timestamptz) to medremind_app, service_role;
