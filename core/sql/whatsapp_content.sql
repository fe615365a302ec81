-- name: get_content_sid
-- The Content SID stored for one account and quick-reply layout, if any.
select content_sid from whatsapp_quick_reply_contents where account_sid = $1 and layout_key = $2

-- name: put_content_sid
-- Keep the first SID stored for a layout (another process may have created one at the same time)
-- and return the one that is kept.
with inserted as (
  insert into whatsapp_quick_reply_contents (account_sid, layout_key, content_sid)
  values ($1, $2, $3)
  on conflict (account_sid, layout_key) do nothing
  returning content_sid
)
select content_sid from inserted
union all
select content_sid from whatsapp_quick_reply_contents
where account_sid = $1 and layout_key = $2 and not exists (select 1 from inserted)

-- name: forget_content_sid
-- Drop a SID Twilio no longer knows (deleted in the console), only if it is still the stored one.
delete from whatsapp_quick_reply_contents
where account_sid = $1 and layout_key = $2 and content_sid = $3
