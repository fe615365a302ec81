-- A message that still holds a usable sign-in link to the patient app is not the clinic's to read.
--
-- The link (`/app/#sign-in=<token>`, 15 minutes, single use; core/sign_in_links.py) is the key
-- to the patient's account in the app: whoever opens it first answers their doses, subscribes a
-- browser to their reminders or erases them. It reaches the patient in the text of a service
-- notice (kind 'system': the message a sign-in request queues, the bot's answer to /app), and the
-- clinic reads its patients' messages (the dashboard as role authenticated, the API's list). The
-- text was scrubbed only once the link was spent, so for its whole life a clinician or an API key
-- could read it and sign in as the patient first (attack run, session 17).
--
-- Such a row is hidden from the clinic while the link may work: from its creation (the link is
-- made in the same transaction) for the link's 15 minutes, unless spent before (the redeeming
-- request scrubs every message holding it; patient_app.sql scrub_sign_in_message). After that it
-- shows again, with '(used)' or a dead link. The API's queries of messages ask the same function
-- (core/sql/web.sql). A plain SQL function without SET, so it is inlined into the policy and the
-- queries; 'system' first, so a clinic's other messages cost one comparison.
create function public.message_holds_live_sign_in_link(
  p_kind text, p_content text, p_created_at timestamptz
) returns boolean
  language sql stable parallel safe as $$
  select p_kind = 'system'
     and p_created_at > now() - interval '15 minutes'
     and coalesce(strpos(p_content, '/app/#sign-in=') > 0, false)
$$;
-- Not PostgreSQL's default grant to PUBLIC: on Supabase, anon could call it through /rpc
-- (tests/integration/test_function_privileges.py).
revoke all on function public.message_holds_live_sign_in_link(text, text, timestamptz)
  from public, anon;
grant execute on function public.message_holds_live_sign_in_link(text, text, timestamptz)
  to authenticated, medremind_app;

alter policy scheduled_messages_clinician on public.scheduled_messages
  using (organization_id = public.current_organization_id()
         and not public.message_holds_live_sign_in_link(kind, message_content, created_at));
