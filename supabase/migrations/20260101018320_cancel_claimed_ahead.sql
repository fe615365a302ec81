-- A clinic may cancel a message until its time, also one a worker claimed ahead of it
-- (docs/delivery.md "Claimed ahead"; scheduler/dispatcher.py _claim_ahead).
--
-- With a peak forecast, a worker claims (leases) what falls due in the next 10 s and holds it
-- until its time. A clinician cancelling such a row in those seconds (the dashboard, or
-- POST /api/v1/messages/{id}/cancel) was refused, 409 "no longer pending", though nothing had
-- gone and the patient would get the message the clinic had withdrawn.
--
-- public.cancel_scheduled_message is now the one cancel of both: a pending row as before, and
-- a row claimed ahead while its time is more than a second away. It releases the lease (status
-- cancelled, no token): the worker's record of that lease is refused, and the worker never
-- sends it, because it hands a row claimed ahead to its senders only after
-- public.claimed_ahead_held has read it, at the row's time or later (the fleet's clock, the
-- database's within half a round trip: scheduler/fleet_clock.py, whose readings are trusted
-- only within 0.5 s), and drops a row no longer held.
--
-- The two meet under one advisory lock per worker (public.handover_lock_key of locked_by): the
-- cancel takes it exclusively before it writes, the worker's read shares it before its
-- snapshot. A cancel that came first has committed when the read looks, so the read sees it; a
-- cancel that comes after the read finds the row's time less than a second away (the read ran
-- at its time) and is refused: too late, it is being sent. Nothing in between: the worker
-- writes nothing per row at the handover, which is the peak's hot path. Other workers' checks
-- and cancels of other workers' rows do not wait on each other.

create function public.handover_lock_key(p_worker text) returns bigint
language sql immutable parallel safe as $$
  select hashtextextended('medremind.handover:' || p_worker, 0)
$$;
-- Called by the two functions below as their callers (security invoker): the roles that may
-- cancel or hand over, not anon.
revoke all on function public.handover_lock_key(text) from public, anon;
grant execute on function public.handover_lock_key(text)
  to medremind_app, authenticated, service_role;

-- Cancel message p_id (of organization p_organization; null: whatever row-level security lets
-- the caller see, the dashboard's case). Returns the cancelled row, or nothing: not found, not
-- pending and not claimed ahead, or less than a second before its time (being sent). The
-- caller reads the row again to say which.
create function public.cancel_scheduled_message(p_id uuid, p_organization uuid)
  returns setof public.scheduled_messages
  language plpgsql security invoker set search_path = public, pg_temp as $$
declare
  v_holder text;
begin
  -- Twice at most: a row claimed ahead between the first look and the update is looked at again.
  for attempt in 1..2 loop
    select m.locked_by into v_holder
      from public.scheduled_messages m
     where m.id = p_id and (p_organization is null or m.organization_id = p_organization)
       and m.status = 'processing'
       and m.scheduled_time > clock_timestamp() + interval '1 second';
    if v_holder is not null then
      -- Wait for the holder's read under way; its next read waits for this cancel's commit.
      perform pg_advisory_xact_lock(public.handover_lock_key(v_holder));
    end if;
    -- A new statement: a fresh snapshot, after the lock.
    return query
      update public.scheduled_messages m
         set status = 'cancelled', last_error = null,
             lease_token = null, locked_by = null, locked_until = null
       where m.id = p_id
         and (p_organization is null or m.organization_id = p_organization)
         and (m.status = 'pending'
              or m.status = 'processing' and m.locked_by = v_holder
                 and m.scheduled_time > clock_timestamp() + interval '1 second')
         and not public.message_holds_live_link(m.kind, m.message_content, m.created_at)
      returning m.*;
    exit when found or v_holder is not null;
  end loop;
end
$$;
revoke all on function public.cancel_scheduled_message(uuid, uuid) from public, anon;
grant execute on function public.cancel_scheduled_message(uuid, uuid)
  to medremind_app, authenticated, service_role;

-- Which of worker p_worker's rows claimed ahead (p_ids, their lease tokens p_tokens) it still
-- holds, read right before they go to its senders (core/sql/dispatch.sql still_held). Held as
-- the lease keeper holds a row (dispatch.sql renew): its token, processing or reaped and not
-- claimed or changed since. A row a clinic cancelled is not.
create function public.claimed_ahead_held(p_worker text, p_ids uuid[], p_tokens uuid[])
  returns setof uuid
  language plpgsql security invoker set search_path = public, pg_temp as $$
begin
  perform pg_advisory_xact_lock_shared(public.handover_lock_key(p_worker));
  -- A new statement: its snapshot sees every cancel that held the lock before.
  return query
    select m.id
      from unnest(p_ids, p_tokens) as u(id, token)
      join public.scheduled_messages m on m.id = u.id
     where m.lease_token = u.token and m.status in ('processing', 'pending');
end
$$;
revoke all on function public.claimed_ahead_held(text, uuid[], uuid[]) from public, anon,
  authenticated;
grant execute on function public.claimed_ahead_held(text, uuid[], uuid[]) to medremind_app;
