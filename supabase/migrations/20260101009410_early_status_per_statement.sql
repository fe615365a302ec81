-- Callbacks that arrived before their send was recorded (20260101008410) are applied by one
-- trigger per UPDATE statement instead of one per recorded SMS or WhatsApp row.
--
-- The row trigger called apply_delivery_status_events for every such row the dispatcher recorded
-- (a PL/pgSQL call with its own search_path, an advisory lock and a lookup each: 12 ms of a
-- 150 ms record of 500 clinic reminders, 175 of them SMS or WhatsApp), though nearly always no
-- callback is waiting. Now the statement takes the same locks (in key order, so two statements
-- cannot deadlock on them), then looks for waiting callbacks once for all its rows, and applies
-- only those. Taking each lock before looking keeps 20260101008410's guarantee: the web process
-- storing a callback and the worker recording its send take the lock in turn, so the second sees
-- what the first committed.

create function public.scheduled_messages_apply_early_statuses() returns trigger
language plpgsql set search_path = public, pg_temp as $$
declare
  recorded text[];
  waiting text;
begin
  select array_agg(distinct n.provider_message_id order by n.provider_message_id) into recorded
    from new_rows n join old_rows o on o.id = n.id
   where n.provider_message_id is not null
     and o.provider_message_id is distinct from n.provider_message_id
     and n.channel_used in ('sms', 'whatsapp');
  if recorded is null then
    return null;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('delivery_status_events:' || k, 0))
     from unnest(recorded) with ordinality as r(k, n) order by n;
  -- A new snapshot (a new statement after the locks): callbacks committed meanwhile are seen.
  for waiting in
    select distinct e.provider_message_id from delivery_status_events e
     where e.provider_message_id = any (recorded) and e.applied_at is null
  loop
    perform apply_delivery_status_events(waiting);
  end loop;
  return null;
end
$$;
revoke all on function public.scheduled_messages_apply_early_statuses() from public;

drop trigger scheduled_messages_apply_early_status on public.scheduled_messages;
create trigger scheduled_messages_apply_early_statuses
  after update on public.scheduled_messages
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.scheduled_messages_apply_early_statuses();
