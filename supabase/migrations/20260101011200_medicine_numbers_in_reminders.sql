-- Two medicines due at the same time sent identical reminders ("Time for your 8:00 AM dose."),
-- and a patient who keeps medicine names off the lock screen could not tell them apart. A patient
-- with two or more active medicines now gets each dose's medicine by its number, the one the
-- bot's /meds list shows ("Time for your 8:00 AM dose of medicine 2."), never its name unless
-- they opted in (patients.name_medicine_in_reminders). The number rides in the reminder's and
-- follow-up's payload as `medicine_number` (a template variable; scheduler/planner.py and
-- core/sql/planner.sql put it there), and is kept true for pending rows whenever the patient's
-- list changes (a medicine added, paused, resumed or deleted).

-- Per medication of the patients given: {"medicine_number": n} where its patient has two or more
-- active medications, n its place in the patient's list of medications not deleted, in the order
-- /meds shows them (core/sql/bot.sql list_medications); {} otherwise. Set-based: the planner
-- labels a whole batch of reminders with one call.
create function public.medicine_labels(p_patients uuid[])
  returns table (medication_id uuid, label jsonb)
  language sql stable set search_path = public, pg_temp as $$
  select l.id,
         case when l.active >= 2 then jsonb_build_object('medicine_number', l.n)
              else '{}'::jsonb end
    from (select m.id,
                 row_number() over (partition by m.patient_id order by m.created_at, m.id) as n,
                 count(*) filter (where m.status = 'active')
                   over (partition by m.patient_id) as active
            from public.medications m
           where m.patient_id = any(p_patients) and m.status <> 'deleted') l
$$;
revoke all on function public.medicine_labels(uuid[]) from public, anon;
grant execute on function public.medicine_labels(uuid[])
  to authenticated, medremind_app, service_role;

-- The pending reminders and follow-ups of the patients whose list changed (a medication added,
-- its status changed, or moved to another patient record by a merge) get their numbers again;
-- set-based, one statement for a bulk import. Other updates (a pill count going down with each
-- Taken) change nothing here and cost one scan of the transition tables.
create function public.refresh_medicine_labels() returns trigger
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
  with labelled as (
    select sm.id, (sm.payload - 'medicine_number') || coalesce(l.label, '{}'::jsonb) as payload
      from public.scheduled_messages sm
      left join public.medicine_labels(changed) l
             on l.medication_id = (sm.payload ->> 'medication_id')::uuid
     where sm.patient_id = any(changed)
       and sm.status = 'pending'
       and sm.kind in ('medication_reminder', 'dose_followup')
       and sm.payload ? 'medication_id'
  )
  update public.scheduled_messages sm
     set payload = l.payload
    from labelled l
   where sm.id = l.id and sm.payload is distinct from l.payload;
  return null;
end
$$;
revoke all on function public.refresh_medicine_labels() from public, anon;

create trigger medications_refresh_labels_insert after insert on medications
  referencing new table as changed_rows
  for each statement execute function public.refresh_medicine_labels();
create trigger medications_refresh_labels_update after update on medications
  referencing old table as old_rows new table as changed_rows
  for each statement execute function public.refresh_medicine_labels();
