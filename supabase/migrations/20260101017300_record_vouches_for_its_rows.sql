-- The record's attempts and questions name messages it has just updated (issue 20).
--
-- message_delivery_attempts and conversation_questions check that each row's message exists, a
-- primary-key probe per distinct message at the end of each inserting statement (migrations
-- 20260101011020 and 20260101013000: statement triggers instead of foreign keys). In the
-- dispatcher's record (core/sql/dispatch.sql: record) every question, and nearly always every
-- attempt, belongs to a message the same statement updated under its lease: that row is locked
-- until the statement commits, so no erasure can remove it in between and the probe has nothing
-- to find. The probes were ~10 us of PostgreSQL CPU per recorded message of ~75
-- (bench/dispatch_sql.py, the triggers dropped as a variant).
--
-- The record says so: it sets medremind.questions_checked and, when every attempt it writes
-- names a message it updated (an attempt of a lease lost meanwhile does not), also
-- medremind.attempts_checked, to 'record' (set_config, local to its transaction). Each trigger
-- clears its mark as it returns (statement triggers fire for every statement of a data-modifying
-- CTE, rows or none), so the mark covers that one statement and nothing after it. The marks are
-- a promise of our own statement, not a permission: only the service's roles may write these
-- tables (RLS; authenticated clinicians read attempts and never write them).

create or replace function public.check_attempt_messages() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  wanted uuid[];
  missing uuid;
begin
  if current_setting('medremind.attempts_checked', true) = 'record' then
    perform set_config('medremind.attempts_checked', '', true);
    return null;
  end if;
  select array_agg(distinct n.message_id) into wanted from new_rows n;
  if wanted is null  -- no attempt rows
     or cardinality(wanted) = (select count(*) from scheduled_messages m where m.id = any (wanted))
  then
    return null;
  end if;
  select w into missing from unnest(wanted) as w
   where not exists (select 1 from scheduled_messages m where m.id = w)
   limit 1;
  raise exception 'message_delivery_attempts.message_id % is not a scheduled message', missing
    using errcode = 'foreign_key_violation';
end
$$;
revoke all on function public.check_attempt_messages() from public;

create or replace function public.conversation_questions_same_patient_rows() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare missing uuid;
begin
  if current_setting('medremind.questions_checked', true) = 'record' then
    perform set_config('medremind.questions_checked', '', true);
    return null;
  end if;
  -- A scalar subquery per row: a primary-key lookup, never a hash of the whole table.
  select q.message_id into missing
    from new_rows q
   where q.message_id is not null
     and (select true from scheduled_messages m where m.id = q.message_id) is null
   limit 1;
  if missing is not null then
    raise exception 'conversation_questions.message_id % is not a scheduled message', missing
      using errcode = 'foreign_key_violation';
  end if;
  return null;
end
$$;
revoke all on function public.conversation_questions_same_patient_rows() from public;
