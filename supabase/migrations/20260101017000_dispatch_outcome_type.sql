-- The record's outcomes as one array of rows (core/sql/dispatch.sql: record), not thirteen
-- aligned arrays (issue 20).
--
-- asyncpg checks every element of an array parameter against collections.abc (Iterable, and for
-- a string Sized too: is it a sub-array?), a Python-level call each: thirteen arrays cost the
-- worker ~19 such checks a message, ~4 us of its ~55 us in an 08:00 burst
-- (/tmp probe: 250 outcomes a statement, 7.1-8.8 us of client CPU a message as arrays, 3.7-4.5
-- as one array of this type; the server's decoding 1.9-2.1 us against 1.0). An array of a
-- composite type is checked once per element, whatever its fields.
--
-- The fields are the record's, in its order (scheduler/claims.py record_statement builds each
-- row): the message, its lease token, the status it goes to, the time it is due again (a retry,
-- a deferral), what its attempts change by, the error, when it was sent, the provider's id, the
-- channel used, the channels tried (comma-separated), the text sent for a template row, the
-- question it asked (JSON) and the duration of its folded sent attempt.
create type public.dispatch_outcome as (
  id uuid,
  token uuid,
  status text,
  next_time timestamptz,
  attempts_delta integer,
  last_error text,
  sent_at timestamptz,
  provider_message_id text,
  channel_used text,
  channels_tried text,
  rendered_text text,
  question text,
  sent_ms integer
);

comment on type public.dispatch_outcome is
  'One outcome of the dispatcher''s record (core/sql/dispatch.sql: record; scheduler/claims.py).';
