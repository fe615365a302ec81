-- Twilio Content resources the WhatsApp sender created for quick-reply buttons, so a restarted
-- worker or web process reuses them instead of creating new ones (platforms/whatsapp_content.py).
--
-- One row per (Twilio account, layout): a layout is a number of buttons and of body parts, with
-- every text in ContentVariables, so a handful of rows serve every message. Nothing here is about
-- a patient: no PHI, no organization. Only the service processes read or write it.

create table public.whatsapp_quick_reply_contents (
  account_sid text not null check (account_sid ~ '^AC[0-9a-fA-F]{32}$'),
  layout_key text not null check (length(layout_key) between 1 and 100),
  content_sid text not null check (content_sid ~ '^HX[0-9a-fA-F]{32}$'),
  created_at timestamptz not null default now(),
  primary key (account_sid, layout_key)
);
comment on table public.whatsapp_quick_reply_contents is
  'Twilio Content SIDs (twilio/quick-reply) created once per account and layout, reused on restart.';

alter table public.whatsapp_quick_reply_contents enable row level security;
alter table public.whatsapp_quick_reply_contents force row level security;
grant select, insert, update, delete on public.whatsapp_quick_reply_contents to medremind_app;
create policy whatsapp_quick_reply_contents_service on public.whatsapp_quick_reply_contents
  for all to medremind_app using (true) with check (true);
grant all on public.whatsapp_quick_reply_contents to service_role;
-- Clinicians (authenticated) and anon get no grant and no policy: they see nothing.
