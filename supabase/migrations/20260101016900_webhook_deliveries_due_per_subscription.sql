-- Outgoing webhooks are claimed per subscription (scheduler/webhook_sender.py): each claim looks,
-- for every subscription, at its oldest due deliveries, at most a few of each in flight, so one
-- clinic's slow or dead endpoint cannot hold the posts of every other clinic. This index answers
-- that look per subscription without walking its delivered and failed history.
create index webhook_deliveries_subscription_due_idx
  on public.webhook_deliveries (subscription_id, next_attempt_at)
  where status in ('pending', 'delivering');
