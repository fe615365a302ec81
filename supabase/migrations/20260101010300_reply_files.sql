-- The files of a bot reply (the /stats chart, the /export CSV), stored with its row so the
-- dispatcher's retry sends them too (issue 15, item 9; before, a retried reply went out as text
-- only). Written in the turn's transaction beside the reply row (core/reply_files.py), read by
-- the dispatcher right before it sends the row, and gone once the row is final.
--
-- A narrow table of its own, not a bytea column on scheduled_messages: every claim, record and
-- reap touches that wide, hot row, and a file rides along only with a few replies.
--
-- Nobody but the service reads them: an export holds the patient's whole dose history. A
-- clinician sees the reply's row (its text, status and attempts) like every message, and reads
-- the dose history itself elsewhere; the file in transit adds nothing for them. So no grant and
-- no policy for authenticated or anon, and no organization column: a row belongs to its message.
--
-- Bounded: a file at most 10 MiB (core/reply_files.py MAX_FILE_BYTES, Telegram's limit for a
-- photo; the dialogs check before they attach), at most 10 files a reply, names and types short.

create table public.reply_files (
  message_id uuid not null,
  position smallint not null check (position between 0 and 9),
  filename text not null check (length(filename) between 1 and 255),
  content_type text not null check (length(content_type) between 1 and 255),
  data bytea not null check (octet_length(data) <= 10485760),
  created_at timestamptz not null default now(),
  primary key (message_id, position)
);
comment on table public.reply_files is
  'Files of a pending bot reply (scheduled_messages row message_id), for the dispatcher''s retry; deleted once the row is final or deleted.';

alter table public.reply_files enable row level security;
revoke all on public.reply_files from public, anon, authenticated;
grant select, insert, delete on public.reply_files to medremind_app;
create policy reply_files_service on public.reply_files
  for all to medremind_app using (true) with check (true);
grant all on public.reply_files to service_role;

-- The message it belongs to: no foreign key constraint, as for delivery attempts (migration
-- 20260101006000). A foreign key would add a referential trigger per row to every update and
-- delete of scheduled_messages, the hottest table, for the rare reply with a file. The insert
-- joins its message (core/sql/reply_files.sql: store), and deleting messages deletes their
-- files below, once per statement (erasure, retention, a clinician's delete).
create function public.delete_message_files() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  -- Almost always empty: a file lives only until its reply is final.
  if exists (select 1 from reply_files) then
    delete from reply_files f using old_rows o where f.message_id = o.id;
  end if;
  return null;
end
$$;
revoke all on function public.delete_message_files() from public;

create trigger scheduled_messages_delete_files
  after delete on scheduled_messages referencing old table as old_rows
  for each statement execute function public.delete_message_files();

-- A reply done with (sent, delivered, failed, cancelled, expired) needs its files no more. Only
-- rows that name files in their payload ('files': how many) fire it.
create function public.clear_reply_files() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  delete from reply_files where message_id = new.id;
  return null;
end
$$;
revoke all on function public.clear_reply_files() from public;

create trigger scheduled_messages_clear_reply_files
  after update of status on scheduled_messages
  for each row
  when (new.payload ? 'files'
        and old.status in ('pending', 'processing')
        and new.status in ('sent', 'delivered', 'failed', 'cancelled', 'expired'))
  execute function public.clear_reply_files();
