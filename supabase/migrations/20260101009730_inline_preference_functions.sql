-- The dispatcher's claim query calls public.message_category and public.preference_opted_out for
-- every claimed row. A SQL function with a SET clause is never inlined by the planner, so each
-- call was a function call per row (bench/dispatch.py scenario 1: Postgres CPU per message up by
-- a third). Both read no table, so the search path cannot change what they do: redefined without
-- it, they are inlined into the query.

create or replace function public.message_category(p_kind text, p_payload jsonb) returns text
  language sql immutable parallel safe as $$
  select case
    when p_kind in ('medication_reminder', 'dose_followup', 'refill_reminder',
                    'missed_dose_caregiver') then 'medication'
    when p_kind in ('appointment_reminder', 'appointment_confirmation') then 'appointments'
    when p_kind = 'free_text'
         and (p_payload ->> 'category' = 'clinic_news' or p_payload ->> 'group' = 'true')
      then 'clinic_news'
  end
$$;

create or replace function public.preference_opted_out(p_patient_choice text, p_clinic_choice text)
  returns boolean
  language sql immutable parallel safe as $$
  select coalesce(p_patient_choice, p_clinic_choice, 'in') = 'out'
$$;
