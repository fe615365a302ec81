-- Marking a medication time-critical (or routine again) in one place: the API's
-- PATCH /api/v1/patients/{id}/medications/{id} (core/sql/telegram_bots.sql set_time_critical)
-- and the dashboard's patient page (dashboard/src/lib/data/patients.ts) both call this function,
-- so the rule for the pending reminders cannot drift between them.
--
-- Security invoker: row-level security decides what the caller may change (a clinician: their
-- clinic's medications and messages only), and the medications' audit trigger records the
-- caller (the signed-in clinician, or the API key the service named). No row (an empty result)
-- when the medication is not the patient's, was deleted, or is hidden from the caller.
--
-- The pending reminders follow in the same statement: priority 0 when time-critical, else 1
-- (scheduler/planning_rules.py), and a time-critical one planned early back at its dose's time;
-- one later than that (snoozed by the patient, put back for quiet hours or the rate limit) keeps
-- its time.
create function public.set_time_critical(p_medication uuid, p_patient uuid, p_critical boolean)
  returns table (id uuid, name text, dose text, status text, time_critical boolean)
  language sql volatile security invoker set search_path = public, pg_temp as $$
  with med as (
    update public.medications md set time_critical = p_critical
     where md.id = p_medication and md.patient_id = p_patient and md.status <> 'deleted'
    returning md.id, md.name, md.dose, md.status, md.time_critical
  ), reminders as (
    update public.scheduled_messages m
       set priority = case when p_critical then 0 else 1 end,
           scheduled_time = case when p_critical then greatest(m.scheduled_time, d.due_at)
                                 else m.scheduled_time end
      from public.dose_events d, med
     where d.medication_id = med.id and m.dose_event_id = d.id
       and m.kind = 'medication_reminder' and m.status = 'pending'
  )
  select med.id, med.name, med.dose, med.status, med.time_critical from med
$$;
revoke all on function public.set_time_critical(uuid, uuid, boolean) from public;
grant execute on function public.set_time_critical(uuid, uuid, boolean)
  to authenticated, medremind_app;
