-- A late record of a send still counts while nobody has claimed or changed the row since
-- (docs/delivery.md "At least once", core/sql/dispatch.sql reap and record).
--
-- After a database outage longer than the lease's margin, a worker's buffered "sent" outcomes
-- came back after a reaper had returned those rows to pending (lease_token = null): the record
-- was refused as a lost lease and the rows were sent again, though each had gone once. The
-- reaper now keeps the token of a row it returns to pending (locked_until null, as before), and
-- the record also takes a sent outcome for a pending row whose token is still the outcome's. A
-- claim draws a new token, so a row claimed again cannot match.
--
-- The worker that lost the database takes such a row back when it is there again
-- (dispatch.sql renew: status 'processing' with the same token) if it is still sending it or
-- has sent it.
--
-- Any other change of such a row (a clinic's edit of its text or time, a re-plan, a cancel, a
-- quiet-hours release) clears the token here, so a late record cannot mark an edited message
-- sent: the row goes as edited. A statement that sets the token itself (a claim draws a new
-- one, the record clears it) or takes the row back is left alone. The trigger runs only for a pending row that holds a
-- token (the WHEN clause, evaluated without a function call): a claim of a row never reaped or a
-- record of a processing one does not call it.
create function public.scheduled_messages_forget_reaped_lease() returns trigger
language plpgsql set search_path = public, pg_temp as $$
begin
  if new.lease_token is not distinct from old.lease_token and new.status <> 'processing' then
    new.lease_token := null;
  end if;
  return new;
end
$$;
revoke all on function public.scheduled_messages_forget_reaped_lease() from public;

create trigger scheduled_messages_forget_reaped_lease
  before update on public.scheduled_messages
  for each row when (old.status = 'pending' and old.lease_token is not null)
  execute function public.scheduled_messages_forget_reaped_lease();
