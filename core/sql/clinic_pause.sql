-- A clinician's pause from the dashboard (medremind/web/clinic_pause.py).

-- name: consume_pause_token
-- A dashboard pause token (public.issue_pause_token, migration 20260101018450) for patient $2,
-- used once within its two minutes.
delete from clinic_pause_tokens
 where token_hash = $1 and patient_id = $2 and expires_at > now()
returning organization_id, clinician_id
