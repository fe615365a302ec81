-- A message's default expiry (when it has no expires_at) in one SQL place, read by
-- public.dose_prompt_window_end (the Re-send of a dose's reminder or follow-up, dashboard and API).
--
-- dose_prompt_window_end (migration 20260101016500) repeated the dispatcher's windows as literals
-- ('2 hours' for a reminder, '1 hour' for a follow-up): a change to scheduler/expiry.py
-- DEFAULT_EXPIRY would have left Re-send offering, or refusing, a different window from the one
-- the worker expires rows by. public.message_default_expiry holds every kind's default, as
-- DEFAULT_EXPIRY and FALLBACK_EXPIRY do, and tests/integration/test_default_expiry_one_place.py
-- holds the two equal for every message kind.

create or replace function public.message_default_expiry(p_kind text) returns interval
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  -- scheduler/expiry.py DEFAULT_EXPIRY, else FALLBACK_EXPIRY (an appointment's reminder is
  -- expired by its appointment's start instead, which is not the kind's to say).
  select case p_kind
           when 'medication_reminder' then interval '2 hours'
           when 'dose_followup' then interval '1 hour'
           when 'missed_dose_caregiver' then interval '6 hours'
           when 'refill_reminder' then interval '2 days'
           else interval '24 hours'
         end
$$;
revoke all on function public.message_default_expiry(text) from public;
grant execute on function public.message_default_expiry(text) to authenticated, medremind_app;

create or replace function public.dose_prompt_window_end(m public.scheduled_messages)
  returns timestamptz language sql stable set search_path = public, pg_temp as $$
  -- When a dose's reminder or follow-up is too late to send (null: not a dose prompt): its
  -- expires_at, else its time plus its kind's default expiry, as the dispatcher reads it.
  select case when m.kind in ('medication_reminder', 'dose_followup') then
           coalesce(m.expires_at, m.scheduled_time + public.message_default_expiry(m.kind))
         end
$$;
