-- A clinician's re-send is dated by the database's clock.
--
-- public.resend_message (migration 20260101009310) took the instant its copy is due at from its
-- caller, and the dashboard's role could call it through PostgREST (/rest/v1/rpc) with any: a
-- copy of a failed priority-0 message dated an hour gone by counted against that hour's share
-- of priority 0 (public.take_message_priority_zero), not the current one's, and was due at once
-- all the same, so a clinic re-sent priority-0 messages past its share; and a dose prompt's
-- window was judged at a time of the caller's choosing. The signed-in caller now has a form
-- without a time (nor a clinic: theirs), which dates the copy now(); the form with a time stays
-- the service's (POST /api/v1/messages/{id}/resend dates it by the web process's clock, which
-- tests inject) and is no longer the dashboard role's. As for invite_address_owner (migration
-- 20260101019140). tests/integration/test_resend_message.py,
-- tests/web/test_resend_priority_share.py.

create function public.resend_message(p_message uuid, p_actor text)
returns table (outcome text, message_id uuid, status text)
  language plpgsql volatile security definer set search_path = public, pg_temp as $$
  -- SECURITY DEFINER to call the service's form, which signed-in callers may not. It runs past
  -- row-level security there, so the clinic is the caller's own (none when in no clinic: the
  -- message is not found), and a message the policy scheduled_messages_clinician hides from
  -- them (one holding a live sign-in link) is not found either. The caller's claims still hold
  -- there: the copy's created_by, the audit's actor, the share counted for their clinic only.
begin
  if exists (select from scheduled_messages m
              where m.id = p_message
                and public.message_holds_live_link(m.kind, m.message_content, m.created_at)) then
    return query select 'not_found'::text, null::uuid, null::text;
    return;
  end if;
  return query select r.outcome, r.message_id, r.status
    from public.resend_message(p_message, public.current_organization_id(), p_actor, now()) r;
end
$$;
comment on function public.resend_message(uuid, text) is
  'resend_message dated now, for the caller''s own clinic: the dashboard''s (a clinician''s) form';
revoke all on function public.resend_message(uuid, text) from public, anon;
grant execute on function public.resend_message(uuid, text)
  to authenticated, medremind_app, service_role;

revoke execute on function public.resend_message(uuid, uuid, text, timestamptz)
  from authenticated;
