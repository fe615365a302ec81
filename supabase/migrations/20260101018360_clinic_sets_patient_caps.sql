-- A clinic's admin sets the clinic's own cap on its messages per patient (docs/api.md, "A cap per
-- patient"; migration 20260101018340 added the cap, its own values set by the operator only).
--
-- The rule: a clinic may set each window's cap to a whole number from 1 to the service's maximum
-- for it (public.clinic_message_cap_maximum: 20 an hour, 50 in 24 hours), lower than the
-- service's default or higher, or remove its own to follow the service's
-- (MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR / _DAY). It can never turn a cap off (0) nor set
-- it past the maximum: the cap is what stops an integrator's retry loop from texting one patient
-- hundreds of times, and a clinic's settings are written by whoever holds its admin key.
--
-- The API (PATCH /api/v1/clinic, medremind/web/api_v1/clinic_caps.py) checks it with errors
-- naming the field. The dashboard writes organizations as the signed-in clinician (PostgREST
-- can too, and until now could write any caps, 0 included): this trigger holds the same rule
-- for a signed-in clinician's write (auth.uid() set), SQLSTATE 22023 naming the key. The
-- service's own role (the operator's SQL, migrations) is not concerned: the operator may still
-- set any value, 0 (off) included.

create function public.clinic_message_cap_maximum(p_window text) returns integer
language sql immutable parallel safe as $$
  select case p_window when 'hour' then 20 when 'day' then 50 end
$$;
comment on function public.clinic_message_cap_maximum(text) is
  'The most a clinic may set its own clinic_messages_per_patient_<window> to (hour, day)';
revoke all on function public.clinic_message_cap_maximum(text) from public, anon;
grant execute on function public.clinic_message_cap_maximum(text) to authenticated, medremind_app;

create function public.organizations_patient_caps_checked() returns trigger
language plpgsql set search_path = public, pg_temp as $$
declare
  w text;
  key text;
  value jsonb;
begin
  if auth.uid() is null then
    return new;
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
revoke all on function public.organizations_patient_caps_checked() from public;

create trigger organizations_patient_caps_checked before update of caps on public.organizations
  for each row execute function public.organizations_patient_caps_checked();

-- The caps per patient a clinic's messages are held to now (its own, else the service's; 0: off),
-- as GET /api/v1/clinic and the dashboard's Settings show them.
create function public.clinic_message_caps_in_effect(p_caps jsonb, out hour integer, out day integer)
language sql stable set search_path = public, pg_temp as $$
  select public.clinic_cap_value(p_caps, 'clinic_messages_per_patient_hour', l.hour),
         public.clinic_cap_value(p_caps, 'clinic_messages_per_patient_day', l.day)
    from (select coalesce(max(clinic_messages_per_patient_hour), 5) as hour,
                 coalesce(max(clinic_messages_per_patient_day), 10) as day
            from service_limits) l
$$;
revoke all on function public.clinic_message_caps_in_effect(jsonb) from public, anon;
grant execute on function public.clinic_message_caps_in_effect(jsonb) to authenticated, medremind_app;
