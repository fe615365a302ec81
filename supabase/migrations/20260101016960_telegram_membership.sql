-- Telegram tells the bot when a person blocks or unblocks it (session 24, H4).
--
-- The webhook now subscribes to my_chat_member (medremind/web/telegram_members.py): a private
-- chat's new status 'kicked' marks the chat's contact point blocked as a 403 "bot was blocked by
-- the user" does (scheduler: the patient's next channel is used from the next message on, not
-- after the next reminder fails), and 'member' lifts that block again. Such updates may arrive
-- out of order (Telegram delivers on several connections at once, and redelivers): each change
-- carries Telegram's own time of it, and one older than the last applied is ignored.
alter table public.contact_points add column telegram_member_at timestamptz;
comment on column public.contact_points.telegram_member_at is
  'When Telegram said, last, that the person blocked or unblocked the bot of this chat (the '
  'my_chat_member update''s date); an older such update is ignored.';

alter table public.caregivers add column telegram_member_at timestamptz;
comment on column public.caregivers.telegram_member_at is
  'When Telegram said, last, that the caregiver blocked or unblocked the service''s bot.';
