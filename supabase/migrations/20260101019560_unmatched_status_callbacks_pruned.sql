-- Twilio status callbacks that match no recorded send of their signer go after a few days
-- (scheduler/retention.py, UNMATCHED_STATUS_DAYS), not after the retention age (a year by
-- default). A callback is stored before its send is recorded and applied when it is (migration
-- 20260101008410), and one that matches no message of its signer stays unapplied (migration
-- 20260101015560): a clinic whose own Twilio account calls us back for its other systems'
-- messages, or a storm of callbacks for unknown ids, kept a row each for a year. A send is
-- recorded within its lease (seconds), so a callback still unapplied days later never will be.
-- The pruner reads the oldest unapplied callbacks by arrival: this index keeps it off the
-- applied ones, which a year of retention holds. tests/dispatch/test_retention.py.

create index delivery_status_events_unapplied_received_idx
  on public.delivery_status_events (received_at) where applied_at is null;
