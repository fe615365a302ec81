-- A lease its worker takes back was not lost: the reaper's accounting of it is undone
-- (migrations 20260101017700, 20260101018000; core/sql/reaper.sql reap, dispatch.sql renew).
--
-- The reaper gives back the attempt of a lease that ran out and counts it in leases_lost. A
-- worker cut off from the database for longer than the lease's margin may find such a row still
-- untouched when it is back and take it back (renew: 'processing', the same token), since it
-- sent it or is sending it. Its attempt then counts again and the loss does not: a worker whose
-- network fails now and then must not bring a row it keeps sending closer to being given up, nor
-- give a row it then puts back unsent (its own attempts_delta -1) a second attempt back.
--
-- The trigger of 20260101017700 already runs for exactly the rows this concerns (pending, with
-- a token: reaped and not claimed or changed since), so no trigger is added.
create or replace function public.scheduled_messages_forget_reaped_lease() returns trigger
language plpgsql set search_path = public, pg_temp as $$
begin
  if new.lease_token is not distinct from old.lease_token then
    if new.status <> 'processing' then
      new.lease_token := null;
    else
      -- Taken back by its worker's lease keeper.
      new.attempts := old.attempts + 1;
      new.leases_lost := greatest(old.leases_lost - 1, 0);
    end if;
  end if;
  return new;
end
$$;
revoke all on function public.scheduled_messages_forget_reaped_lease() from public;
