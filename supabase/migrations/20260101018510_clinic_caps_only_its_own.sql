-- What a signed-in clinician may write of organizations: the settings the API and the dashboard
-- offer a clinic's admin, and in caps only the clinic's own cap on its messages per patient.
--
-- Found (session 33): the dashboard's role (authenticated: the dashboard, PostgREST with a
-- clinician's token) had UPDATE on every column of its organization's row, and the check of
-- migration 20260101018360 looked only at caps' clinic_messages_per_patient_hour / _day. A
-- signed-in admin could still write, directly:
-- - caps.appointment_per_day / _per_week, the planner's caps on appointment reminders
--   (scheduler/appointments.py), which neither PATCH /api/v1/clinic nor Settings offers (Settings
--   shows them read-only): any number (1000: no cap; 0: no appointment reminder at all, the
--   patient never told), or removed (no cap), or a value the planner ignores ("3", 2.5);
-- - any other key in caps, kept and shown in Settings' caps line;
-- - the row's id (refused only by the foreign keys, with an error naming another table) and its
--   created_at / updated_at.
--
-- Now, for a signed-in clinician's write (auth.uid() set; the service's roles, the operator's SQL
-- and migrations are not concerned, as before):
-- 1. caps: only clinic_messages_per_patient_hour and _day change (set within their bounds, or
--    removed, as before); any other key added, removed or changed is refused, SQLSTATE 42501
--    naming the key, and nothing is saved. The operator sets the appointment caps.
-- 2. column privileges: UPDATE of the settings the API's PATCH /clinic and Settings write, not
--    of id, created_at and updated_at (the touch trigger still sets updated_at).

create or replace function public.organizations_patient_caps_checked() returns trigger
language plpgsql set search_path = public, pg_temp as $$
declare
  w text;
  key text;
  value jsonb;
begin
  if auth.uid() is null then
    return new;
  end if;
  if jsonb_typeof(new.caps) <> 'object' then
    raise exception 'caps: a JSON object of caps, not %', jsonb_typeof(new.caps)
      using errcode = '22023';
  end if;
  -- Every other key stays as it was: the operator's, not the clinic's.
  select k into key
    from (select jsonb_object_keys(old.caps) union select jsonb_object_keys(new.caps)) as o(k)
   where k not in ('clinic_messages_per_patient_hour', 'clinic_messages_per_patient_day')
     and (old.caps -> k) is distinct from (new.caps -> k)
   order by k
   limit 1;
  if key is not null then
    raise exception 'caps.%: set by the service''s operator, not by a clinic (a clinic sets only'
                    ' clinic_messages_per_patient_hour and _day)', key
      using errcode = '42501',
            hint = 'leave the other caps as they are; ask the service''s operator to change them';
  end if;
  foreach w in array array['hour', 'day'] loop
    key := 'clinic_messages_per_patient_' || w;
    value := new.caps -> key;
    if value is null or value is not distinct from old.caps -> key then
      continue;
    end if;
    if jsonb_typeof(value) <> 'number' or value::text !~ '^[0-9]+$'
       or (value::text)::numeric not between 1 and public.clinic_message_cap_maximum(w) then
      raise exception 'caps.%: a whole number from 1 to %, not %', key,
        public.clinic_message_cap_maximum(w), value::text
        using errcode = '22023',
              hint = 'remove it to follow the service''s MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_'
                     || upper(w) || '; only the service''s operator can turn the cap off';
    end if;
  end loop;
  return new;
end
$$;

revoke update on public.organizations from authenticated;
grant update (name, timezone, locale, contact_phone, contact_email, appointment_reminder_offsets,
              default_quiet_start, default_quiet_end, caps, early_send_seconds,
              telegram_paid_broadcast_after_seconds, telegram_paid_stars_monthly)
  on public.organizations to authenticated;
