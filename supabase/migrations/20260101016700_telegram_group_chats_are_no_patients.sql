-- A Telegram group, supergroup or channel is no patient's chat (the webhook ignores their updates
-- since this release: medremind/web/telegram_chats.py). Before it, /start typed in a group
-- registered the group as a patient: every member read the privacy question, the medicines and
-- each reminder, and any member's press answered the doses. Such chats are known by their id:
-- Telegram numbers private chats above zero and groups, supergroups and channels below it.
--
-- Their contact points are switched off, with the reason where the clinic reads it: no reminder
-- goes to the group again (the worker routes around an inactive contact point; a patient left
-- with no other channel is unreachable, which the dashboard and the API show), and the patient
-- links their own chat with /start in a private chat (or the clinic's invite link). A caregiver
-- whose address is a group is switched off the same way: alerts went to every member.
update public.contact_points
   set active = false,
       last_error = 'a Telegram group chat, not a private one: every member read the reminders;'
                    ' the patient links their own chat with /start in a private chat'
 where channel = 'telegram' and address ~ '^-[0-9]+$' and active;

update public.caregivers
   set active = false
 where channel = 'telegram' and address ~ '^-[0-9]+$' and active;
