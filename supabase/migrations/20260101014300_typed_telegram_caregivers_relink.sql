-- Telegram caregivers whose chat id was typed in (before caregiver links) get no alert naming
-- the patient until their own chat opens a link; the patient is sent one to forward.
--
-- Before migration 20260101014100 the bot's /settings > Caregiver > Telegram took any number as
-- the caregiver's chat id. Nothing shows whether a typed number was right: one wrong digit sends
-- missed-dose alerts, with the patient's name, to a stranger who once started the bot. A
-- caregiver's own chat opening the patient's link (caregiver_links, used) is the only proof, so
-- every Telegram caregiver no used link made is marked here (awaiting_link_since). Such a
-- caregiver is alerted no more: planner.sql records what would have gone as a cancelled message
-- with the reason (mark_missed, plan_unreachable_notices), and the dispatcher's claim and its
-- check before the send treat the caregiver as not alerted. The worker sends each patient one
-- message with a fresh link (medremind/caregiver_relinks.py; link_offered_at); the row the link
-- makes when opened is a new one, not marked, and the marked one is made inactive as any
-- replaced caregiver. SMS, WhatsApp and e-mail caregivers are unchanged.
--
-- Since 20260101012700 a clinic cannot type a Telegram caregiver and since 20260101014100 the bot
-- does not: no new row needs marking after this.

alter table caregivers add column awaiting_link_since timestamptz;
alter table caregivers add column link_offered_at timestamptz;
comment on column caregivers.awaiting_link_since is
  'A Telegram chat id typed in before caregiver links: no alerts until the caregiver''s own chat opens a link the patient forwards.';
comment on column caregivers.link_offered_at is
  'When the patient was sent a fresh link for this caregiver (medremind/caregiver_relinks.py).';

-- What a cancelled alert of such a caregiver says (the dashboard and GET /api/v1/messages show it).
create function public.awaiting_link_reason() returns text
  language sql immutable set search_path = pg_catalog as $$
  select 'not sent: the caregiver''s Telegram chat id was typed in, not linked by their own chat;'
         ' alerts resume once they open the link sent to the patient'
$$;
revoke all on function public.awaiting_link_reason() from public, anon;
grant execute on function public.awaiting_link_reason() to authenticated, medremind_app;

-- A link the worker made for such a caregiver: opened, it replaces the marked caregiver only
-- (bot.sql relink_caregiver), not the patient's other caregivers as a new choice does.
alter table caregiver_links add column relink boolean not null default false;

update caregivers c
   set awaiting_link_since = now()
 where c.channel = 'telegram'
   and not exists (select 1 from caregiver_links l
                    where l.caregiver_id = c.id and l.used_at is not null);

-- Their alerts already planned go unsent, with the reason.
update scheduled_messages m
   set status = 'cancelled', last_error = public.awaiting_link_reason()
  from caregivers c
 where m.caregiver_id = c.id and c.awaiting_link_since is not null and m.status = 'pending';

-- The worker's look-up of caregivers whose patient has no link yet.
create index caregivers_awaiting_link_idx on caregivers (patient_id)
  where awaiting_link_since is not null and link_offered_at is null;
