-- Retention: finished messages (sent, delivered, failed, cancelled, expired) and their delivery
-- attempts are deleted once older than MEDREMIND_RETENTION_DAYS, in batches by the worker
-- (scheduler/retention.py; measured in bench/dispatch.py scenario 9). This index finds them
-- oldest first without reading the pending ones; attempts go by their message's id.
create index scheduled_messages_finished_idx on public.scheduled_messages (scheduled_time)
  where status in ('sent', 'delivered', 'failed', 'cancelled', 'expired');
