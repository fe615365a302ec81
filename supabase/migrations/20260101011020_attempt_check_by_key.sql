-- The attempts' message check (migration 20260101006000) looks the batch's messages up by key
-- (issue 20). Its "not exists" per attempt row was planned without knowing the transition
-- table's size: its cost grew with scheduled_messages (46 us per call at 100 rows, 198 us at
-- 100,000, session 6). "= any(array(...))" is a primary-key probe per distinct message whatever
-- the table's size; the slower search for the missing id runs only when one is missing.

create or replace function public.check_attempt_messages() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  wanted uuid[];
  missing uuid;
begin
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
