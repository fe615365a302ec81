-- The lease reaper's statement (scheduler/reaper.py).

-- name: reap
-- Return rows whose lease ended before $1 (the worker died or stalled, or the web process before
-- it recorded a bot reply it leased: locked_by 'reply:...') to pending for the dispatcher.
--
-- A lost lease is no try: its attempt is given back (as a worker does for a claim it puts back
-- unsent) and the loss counted in leases_lost (migration 20260101018000). Whether the send had
-- begun nothing here tells, so the row goes again either way (at least once); a row that lost
-- its lease greatest(max_attempts, $2) times fails instead of looping forever (a message whose
-- send stops the workers), and only such a row.
--
-- A row returned to pending keeps its lease token (locked_until null): a late record of its
-- send, from a worker that lost the database for longer than the lease's margin, is still
-- accepted until the row is claimed again (a claim draws a new token) or changed (migration
-- 20260101017700 clears the token of a pending row at any other update), and the row is not
-- sent twice. Returns each row's id and new status.
update scheduled_messages
   set status = case when leases_lost + 1 >= greatest(max_attempts, $2) then 'failed'
                     else 'pending' end,
       attempts = greatest(attempts - 1, 0),
       leases_lost = leases_lost + 1,
       last_error = 'lease expired'
                    || case when leases_lost + 1 >= greatest(max_attempts, $2)
                            then ' ' || (leases_lost + 1) || ' times' else '' end
                    || case when locked_by like 'reply:%'
                            then ' (web process stopped before recording the reply)'
                            else ' (worker stopped mid-send)' end
                    || case when leases_lost + 1 >= greatest(max_attempts, $2)
                            then '; given up: every worker that held it stopped'
                            else '; retrying' end,
       locked_by = null,
       locked_until = null,
       lease_token = case when leases_lost + 1 >= greatest(max_attempts, $2) then null
                          else lease_token end
 -- The queue's lease index finds them (migration 20260101011000).
 where id = any(array(select message_id from message_queue where locked_until < $1))
   and status = 'processing' and locked_until < $1
returning id, status
