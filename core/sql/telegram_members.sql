-- A person blocked or unblocked a bot (Telegram's my_chat_member update, private chats only:
-- medremind/web/telegram_members.py; columns: migration 20260101016960).

-- name: membership_changed
-- The chat $1 blocked ($3 true) or unblocked ($3 false) the bot $2 (NULL: the default bot,
-- whose id is $6 when known) at $4, Telegram's time. Blocked: the chat's contact points of that
-- bot are marked as a 403 marks them (dispatch.sql deactivate_contacts: inactive, blocked_at,
-- $5 the reason), so the next message goes to the patient's next channel. Unblocked: a block
-- recorded no later than $4 is lifted, as the chat's next message would lift it (bot.sql
-- finish_turn). A change older than the last one applied (out of order) changes nothing. The
-- caregivers of the chat (alerts go through the default bot) follow likewise. Returns the
-- number of contact points changed.
with caregiver as (
  update caregivers
     set blocked_at = case when $3 then coalesce(blocked_at, $4)
                           when blocked_at <= $4 then null else blocked_at end,
         telegram_member_at = $4
   where channel = 'telegram' and address = $1 and $2::text is null
     and (telegram_member_at is null or telegram_member_at < $4)
)
update contact_points
   set active = case when $3 then false
                     else active or (blocked_at is not null and blocked_at <= $4) end,
       blocked_at = case when $3 then coalesce(blocked_at, $4)
                         when blocked_at <= $4 then null else blocked_at end,
       last_error = case when $3 then $5 else last_error end,
       telegram_member_at = $4
 where channel = 'telegram' and address = $1
   and coalesce(telegram_bot, $6::text) is not distinct from coalesce($2::text, $6::text)
   and (telegram_member_at is null or telegram_member_at < $4)
