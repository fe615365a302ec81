-- An erased clinic patient's tombstone was given back what the erasure took (session 35).
-- Migration 20260101018950 refuses rows written for an erased patient in every table that points
-- at one, but not the patient's own row: the service writes it by id alone (the bot's name,
-- language, zone, quiet hours and an invite's consent, the patient app's settings, Web Push's
-- channel order, the planner's home zone; core/sql/*.sql), so a write that read the patient as
-- active, then waited for the erasure's lock on the row, wrote the tombstone: a name again,
-- settings again, and an invite's consent made it 'active' (its chat then got a contact point,
-- the status read being active). The API's PATCH and the dashboard's details form read the
-- status under the lock; nothing else did.
--
-- A tombstone (status 'deleted') now keeps what the erasure left: an update that changes any
-- column but the erasure's own (erased_at, erasure_reason: erasing it again) and the service's
-- bookkeeping (updated_at, reachability, the planner's notice flag, search_name derived from the
-- name) is refused, check violation patients_patient_erased, the name every other table gives
-- (the API answers 422, the dashboard "this patient was erased", the bot runs the turn again,
-- the planner leaves the patient to the next tick). The OLD a row trigger sees is the row the
-- update locked: the tombstone, when the write waited for the erasure.
-- tests/integration/test_erased_patient_rows.py holds it.
create function public.patients_tombstone_kept() returns trigger
  language plpgsql set search_path = pg_catalog as $$
declare
  bookkeeping constant text[] := array['updated_at', 'erased_at', 'erasure_reason',
    'unreachable_since', 'unreachable_notice_pending', 'linked_at', 'search_name'];
begin
  if (to_jsonb(new) - bookkeeping) is distinct from (to_jsonb(old) - bookkeeping) then
    perform public.refuse_written_value('patients', 'patients_patient_erased');
  end if;
  return new;
end
$$;
revoke all on function public.patients_tombstone_kept() from public;

-- Named to run before the other row triggers of an update (alphabetical order): nothing is
-- cleaned or checked for a write that is refused anyway.
create trigger patients_erased_kept before update on public.patients
  for each row when (old.status = 'deleted') execute function public.patients_tombstone_kept();
