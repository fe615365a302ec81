-- Retention beyond messages (issue 16): the tables that grow with every delivery or request are
-- pruned in batches by the worker's hourly retention job (scheduler/retention.py), as finished
-- messages are (20260101008240): Twilio status callbacks, processed inbound updates (their
-- payloads hold what patients wrote), outgoing webhook events with their deliveries and
-- attempts, and stored Idempotency-Key answers. These indexes let each batch find the oldest
-- rows without reading the rest; the one on webhook_deliveries(event_id) also serves the
-- cascade from a deleted event (without it every event deleted scanned all deliveries).
create index delivery_status_events_received_idx on public.delivery_status_events (received_at);
create index inbound_messages_done_idx on public.inbound_messages (received_at)
  where status <> 'received';
create index webhook_events_created_idx on public.webhook_events (created_at);
create index webhook_deliveries_event_idx on public.webhook_deliveries (event_id);
create index api_idempotency_keys_created_idx on public.api_idempotency_keys (created_at);
