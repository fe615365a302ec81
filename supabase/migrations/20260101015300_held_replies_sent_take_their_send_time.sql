-- Bot replies recorded before migration 20260101015100 take the time they went out.
--
-- A turn's replies after the first are written held: due at their expiry, 24 hours ahead
-- (store_replies: scheduled_time = expires_at = the turn's now() + the reply TTL), until the one
-- before them is done (migration 20260101009000). The web process sent them itself and recorded
-- them in one statement, before the release of the one before could move them, so they kept the
-- held time: the dashboard and the API show them "sent" a day after they were. Migration
-- 20260101015100 fixes the rows recorded from then on (a trigger gives such a reply now() when
-- it leaves pending or processing for sent, delivered or failed while scheduled in the future);
-- this gives the rows recorded before it the time they went out.
--
-- Exactly the rows that trigger would have changed: a reply (conversation_id set) that is sent,
-- delivered or failed, still at its held time (scheduled_time = expires_at: nothing released
-- it), and gone out before that time. "Gone out" is sent_at, or for a failed reply that was
-- never sent its last delivery attempt; a row with neither keeps its time. The trigger wrote the
-- record's now(); sent_at is the send itself, a few milliseconds earlier. Every other row keeps
-- its scheduled_time: the first reply of a turn (due at the turn), a held reply released in time
-- (its release time), one still pending, reminders and every message without a conversation,
-- and replies recorded since 20260101015100 (their time is no longer their expiry).
with went_out as (
  select m.id,
         coalesce(m.sent_at,
                  (select max(a.attempt_time) from message_delivery_attempts a
                    where a.message_id = m.id)) as at
    from scheduled_messages m
   where m.conversation_id is not null
     and m.status in ('sent', 'delivered', 'failed')
     and m.scheduled_time = m.expires_at
)
update scheduled_messages m
   set scheduled_time = w.at
  from went_out w
 where m.id = w.id and w.at < m.scheduled_time;
