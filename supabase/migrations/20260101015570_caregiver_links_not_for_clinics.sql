-- A message that holds a caregiver's usable link is not the clinic's to read either.
--
-- A Telegram caregiver is linked by a deep link, https://t.me/<bot>?start=cg_<token> (7 days,
-- single use; bot/dialogs/caregiver_links.py): whoever opens it first becomes the patient's
-- caregiver, with missed-dose alerts naming the patient (and, if the patient shares them, the
-- medicine). It reaches the patient in the text of a service notice (kind 'system': the bot's
-- answer in /settings > Caregiver, the worker's relink offer of medremind/caregiver_relinks.py),
-- and the clinic read it for the link's whole life, on the dashboard and through the API.
--
-- The rule of 20260101015400 for sign-in links now covers both kinds of link, in one function:
-- a service notice holding a sign-in link for its 15 minutes, or a caregiver link for its 7 days,
-- is hidden from the clinic (row-level security here, the API's message queries in
-- core/sql/web.sql) unless spent before: opening a link rewrites every message holding it
-- (core/sql/messages.sql scrub_spent_link), and the row shows again, '(used)'. A link withdrawn
-- by a newer one stays hidden until its 7 days are over. The lifetimes are the code's
-- (core/sign_in_links.LINK_MINUTES, bot/dialogs/caregiver_links.LIFETIME; a test holds them
-- equal). A plain SQL function without SET, so it is inlined into the policy and the queries;
-- 'system' first, so a clinic's other messages cost one comparison.
create function public.message_holds_live_link(
  p_kind text, p_content text, p_created_at timestamptz
) returns boolean
  language sql stable parallel safe as $$
  select p_kind = 'system'
     and p_created_at > now() - interval '7 days'
     and coalesce((p_created_at > now() - interval '15 minutes'
                   and strpos(p_content, '/app/#sign-in=') > 0)
                  or strpos(p_content, '?start=cg_') > 0,
                  false)
$$;
-- Not PostgreSQL's default grant to PUBLIC: on Supabase, anon could call it through /rpc.
revoke all on function public.message_holds_live_link(text, text, timestamptz) from public, anon;
grant execute on function public.message_holds_live_link(text, text, timestamptz)
  to authenticated, medremind_app;

alter policy scheduled_messages_clinician on public.scheduled_messages
  using (organization_id = public.current_organization_id()
         and not public.message_holds_live_link(kind, message_content, created_at));

drop function public.message_holds_live_sign_in_link(text, text, timestamptz);
