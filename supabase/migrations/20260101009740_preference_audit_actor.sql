-- The preference audit (migration 20260101009710) names its actor the way every other audit row
-- does since migration 20260101009140: the signed-in clinician or the API key acting
-- (public.audit_actor()), else the patient when their own choice changed, else the service.

create or replace function public.audit_clinic_preference() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'UPDATE'
     and new.clinic_choice is not distinct from old.clinic_choice
     and new.channel is not distinct from old.channel
     and new.patient_choice is not distinct from old.patient_choice then
    return new;
  end if;
  insert into audit_log (organization_id, actor, action, entity, entity_id, details)
  select p.organization_id,
         coalesce(public.audit_actor(),
                  case when new.patient_choice is distinct from old.patient_choice
                       then 'patient' end,
                  new.clinic_chose_by, 'service'),
         'preference.changed', 'patient', new.patient_id::text,
         jsonb_build_object(
           'category', new.category,
           'patient_choice', new.patient_choice,
           'clinic_choice', new.clinic_choice,
           'channel', new.channel,
           'previous', case when tg_op = 'UPDATE' then jsonb_build_object(
             'patient_choice', old.patient_choice, 'clinic_choice', old.clinic_choice,
             'channel', old.channel) end)
    from patients p where p.id = new.patient_id;
  return new;
end
$$;
