-- Files of bot replies (core/reply_files.py; table: migration 20260101010300).

-- name: store
-- The files of a turn's replies, written in the turn's transaction; aligned arrays per file:
-- message id, position, file name, content type, bytes. Only for messages that exist (the join
-- stands in for a foreign key).
insert into reply_files (message_id, position, filename, content_type, data)
select u.message_id, u.position, u.filename, u.content_type, u.data
  from unnest($1::uuid[], $2::smallint[], $3::text[], $4::text[], $5::bytea[])
         as u(message_id, position, filename, content_type, data)
  join scheduled_messages m on m.id = u.message_id
on conflict (message_id, position) do nothing

-- name: load
-- A reply's files in order, for the dispatcher's send.
select filename, content_type, data from reply_files where message_id = $1 order by position
