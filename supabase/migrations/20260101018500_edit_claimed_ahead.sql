-- A clinic may edit (move, or change the text of) a message a worker claimed ahead of its time,
-- until a second before that time, as it may cancel one (migration 20260101018320, whose
-- handover lock this shares; docs/delivery.md "Claimed ahead").
--
-- Before, an edit of such a row was refused by the API and the dashboard (they had none: a
-- clinic cancelled and wrote the message again, now refused by the cap per patient), and a
-- signed-in clinician's direct UPDATE of it (PostgREST, the dashboard's role) was taken and
-- lost: the worker sent the text it had read at the claim, at the old time, and recorded it sent
-- over the edit. The guarantee now, for every way in:
-- - never both the old and the new version sent: the edit releases the worker's lease (status
--   back to pending, no token, the claim's attempt given back), so the worker's read before the
--   handover (public.claimed_ahead_held) no longer finds the row held and drops its copy
--   unsent, and its record of that lease is refused; the row is claimed again as edited, at
--   its (new) time, by any worker;
-- - never sent at the old time after a move: the same release;
-- - too late: the edit and the worker's read meet under the holder's handover lock (the edit
--   exclusively, the read shared), so an edit under way is waited for and seen, and one after
--   the read finds less than a second left and is refused: "too late to change: the message is
--   being sent" (SQLSTATE 55000; the API's 409, the dashboard's being_sent).
--
-- public.edit_scheduled_message is the one edit of the API (PATCH /api/v1/messages/{id}) and
-- the dashboard (its Edit page); it and public.cancel_scheduled_message are one function,
-- public.change_unsent_message. The trigger below holds the same rule for any other write a
-- signed-in clinician makes to a row being sent (a direct UPDATE through PostgREST): it takes
-- the lock itself, refuses a late one, and turns an early one into the same release.

-- The one change of a clinic's message not sent yet, of cancel and edit: message p_id (of
-- organization p_organization; null: whatever row-level security lets the caller see),
-- cancelled (p_cancel), or else with its text p_content and its time p_scheduled_time (null:
-- as they are). A pending message, or one a worker claimed ahead while its time is more than a
-- second away: then under the holder's handover lock, taken exclusively before the write (its
-- read under way is waited for; its next read waits for this commit), and the lease released
-- (no token; an edit back to pending, the claim's attempt given back). Returns the changed
-- row, or nothing: not found, not pending and not claimed ahead, or less than a second before
-- its time (being sent). The caller reads the row again to say which.
create function public.change_unsent_message(
  p_id uuid, p_organization uuid, p_cancel boolean, p_content text, p_scheduled_time timestamptz
) returns setof public.scheduled_messages
  language plpgsql security invoker set search_path = public, pg_temp as $$
declare
  v_holder text;
begin
  -- This function checks the handover itself (the trigger below need not take it again).
  perform set_config('medremind.handover_checked', 'yes', true);
  -- Twice at most: a row claimed ahead between the first look and the update is looked at again.
  for attempt in 1..2 loop
    select m.locked_by into v_holder
      from public.scheduled_messages m
     where m.id = p_id and (p_organization is null or m.organization_id = p_organization)
       and m.status = 'processing'
       and m.scheduled_time > clock_timestamp() + interval '1 second';
    if v_holder is not null then
      perform pg_advisory_xact_lock(public.handover_lock_key(v_holder));
    end if;
    -- A new statement: a fresh snapshot, after the lock.
    return query
      update public.scheduled_messages m
         set status = case when p_cancel then 'cancelled' else 'pending' end,
             message_content = case when p_cancel then m.message_content
                                    else coalesce(p_content, m.message_content) end,
             scheduled_time = case when p_cancel then m.scheduled_time
                                   else coalesce(p_scheduled_time, m.scheduled_time) end,
             -- A moved message's note ("deferred to the end of quiet hours") was about its
             -- old time: its new time is judged afresh when due.
             last_error = case when not p_cancel and p_scheduled_time is null
                               then m.last_error end,
             attempts = case when not p_cancel and m.status = 'processing'
                             then greatest(m.attempts - 1, 0) else m.attempts end,
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
  perform set_config('medremind.handover_checked', '', true);
end
$$;
revoke all on function public.change_unsent_message(uuid, uuid, boolean, text, timestamptz)
  from public, anon;
grant execute on function public.change_unsent_message(uuid, uuid, boolean, text, timestamptz)
  to medremind_app, authenticated, service_role;

-- Edit message p_id: its text p_content and its time p_scheduled_time (null: as they are).
create function public.edit_scheduled_message(
  p_id uuid, p_organization uuid, p_content text, p_scheduled_time timestamptz
) returns setof public.scheduled_messages
  language sql security invoker set search_path = public, pg_temp as $$
  select * from public.change_unsent_message(p_id, p_organization, false, p_content,
                                             p_scheduled_time)
$$;
revoke all on function public.edit_scheduled_message(uuid, uuid, text, timestamptz)
  from public, anon;
grant execute on function public.edit_scheduled_message(uuid, uuid, text, timestamptz)
  to medremind_app, authenticated, service_role;

-- Cancel message p_id (migration 20260101018320's rule, now shared with the edit).
create or replace function public.cancel_scheduled_message(p_id uuid, p_organization uuid)
  returns setof public.scheduled_messages
  language plpgsql security invoker set search_path = public, pg_temp as $$
begin
  return query select * from public.change_unsent_message(p_id, p_organization, true, null, null);
end
$$;

-- A signed-in clinician's own UPDATE of a row being sent (status processing: claimed ahead, or
-- leased at its time). Under the holder's handover lock: more than a second before the row's
-- time the write releases the lease (pending unless it says otherwise, no token, the claim's
-- attempt given back), so the worker drops its copy; later it is refused. The service's roles
-- (the worker's record, the reaper, the API, which calls the functions above) are not
-- concerned: the trigger's condition leaves them out before any call.
create function public.scheduled_messages_clinician_handover() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
begin
  if coalesce(current_setting('medremind.handover_checked', true), '') <> 'yes' then
    if old.locked_by is not null then
      perform pg_advisory_xact_lock(public.handover_lock_key(old.locked_by));
    end if;
    -- After the lock: a read of the holder's that came first has committed, and ran at the
    -- row's time or later.
    if old.scheduled_time <= clock_timestamp() + interval '1 second' then
      raise exception 'too late to change: the message is being sent (due at %)',
        to_char(old.scheduled_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        using errcode = '55000',
              hint = 'a message can be changed or cancelled until a second before its time';
    end if;
  end if;
  if new.status = 'processing' then
    new.status := 'pending';
  end if;
  if new.status = 'pending' and new.attempts = old.attempts then
    new.attempts := greatest(old.attempts - 1, 0);
  end if;
  new.lease_token := null;
  new.locked_by := null;
  new.locked_until := null;
  return new;
end
$$;
revoke all on function public.scheduled_messages_clinician_handover() from public;

create trigger scheduled_messages_clinician_handover before update on public.scheduled_messages
  for each row when (old.status = 'processing' and current_user = 'authenticated')
  execute function public.scheduled_messages_clinician_handover();
