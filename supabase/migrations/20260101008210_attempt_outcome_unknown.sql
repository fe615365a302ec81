-- A send that timed out after its request may have reached the provider has an unknown outcome:
-- the attempt says so ('unknown'), so duplicates it may cause are counted, not hidden among
-- ordinary failures (scheduler/delivery.py).
alter table message_delivery_attempts drop constraint if exists message_delivery_attempts_status_check;
alter table message_delivery_attempts add constraint message_delivery_attempts_status_check
  check (status in ('sent', 'failed', 'rate_limited', 'delivered', 'undelivered', 'unknown'));
