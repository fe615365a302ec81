-- Caregiver alerts for two doses missed at the same time said the same thing ("Ana missed her
-- 8:00 AM dose"). Since this migration they carry the dose's medicine number as the patient's
-- own reminders do (migration 20260101011200): planner.sql mark_missed puts `medicine_number` in
-- the alert's payload where the patient has two or more active medicines, and the templates say
-- "her 8:00 AM dose of medicine 2" (the name still only with the patient's consent,
-- caregivers.share_details). The number must stay true while the alert waits for its delay
-- (alert_delay_minutes, up to a day) and the caregiver's quiet hours: the trigger of
-- 20260101011200 now also numbers pending caregiver alerts again when the patient's list
-- changes. An alert's payload names its medication only with share_details, so its medication is
-- found through its dose. Otherwise the function of 20260101011200, unchanged.

create or replace function public.refresh_medicine_labels() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  changed uuid[];
begin
  if tg_op = 'UPDATE' then
    select array_agg(distinct x.patient_id) into changed
      from changed_rows n
      join old_rows o on o.id = n.id
      cross join lateral (values (n.patient_id), (o.patient_id)) as x(patient_id)
     where n.status is distinct from o.status or n.patient_id is distinct from o.patient_id;
  else
    select array_agg(distinct patient_id) into changed from changed_rows;
  end if;
  if changed is null then
    return null;
  end if;
  with pending as (
    select sm.id, sm.payload,
           coalesce((sm.payload ->> 'medication_id')::uuid,
                    (select d.medication_id from public.dose_events d
                      where d.id = sm.dose_event_id)) as medication_id
      from public.scheduled_messages sm
     where sm.patient_id = any(changed)
       and sm.status = 'pending'
       and ((sm.kind in ('medication_reminder', 'dose_followup') and sm.payload ? 'medication_id')
            or (sm.kind = 'missed_dose_caregiver' and sm.dose_event_id is not null))
  ), labelled as (
    select p.id, (p.payload - 'medicine_number') || coalesce(l.label, '{}'::jsonb) as payload
      from pending p
      left join public.medicine_labels(changed) l on l.medication_id = p.medication_id
  )
  update public.scheduled_messages sm
     set payload = l.payload
    from labelled l
   where sm.id = l.id and sm.payload is distinct from l.payload;
  return null;
end
$$;
revoke all on function public.refresh_medicine_labels() from public, anon;
