-- The statement trigger that links a patient at the first send (20260101013800
-- scheduled_messages_link_patients) looks its patients up by key, whatever the planner believes
-- about how many patients are not linked yet.
--
-- Its update joined the batch's reached patients to patients "where p.id = r.patient_id and
-- p.linked_at is null". The statistics of patients say that almost nobody is not linked (a
-- clinic's patients are linked by their first reminder), so the planner read the partial index
-- patients_not_linked_idx whole as the outer side (an estimated row) and joined the batch to
-- each row it found. After an import, before the next ANALYZE, that index holds every imported
-- patient: each firing read all of them. And it fires for every update of scheduled_messages,
-- even of no row: refresh_patient_reachability, run per row by the insert of a patient and of
-- a contact point, updates scheduled_messages (usually no row) and so fired it twice per
-- imported patient. An import of N patients read ~N^2 heap tuples: 20,000 patients and their
-- contact points took minutes, 100,000 more than 5 minutes each statement (bench/import_patients.py).
--
-- Now the update names its patients by id = any(the batch's patients): an index condition on
-- either index, whichever side the planner puts outside, so a firing reads only its batch's
-- patients. A firing whose rows reached no patient (a status change, a cancellation, the empty
-- update above) returns before the update. Same rows linked, at the same time.
create or replace function public.scheduled_messages_link_patients() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_patients uuid[];
begin
  select array_agg(distinct n.patient_id) into v_patients
    from reached_rows n
   where n.status in ('sent', 'delivered') and n.caregiver_id is null
     and n.patient_id is not null;
  if v_patients is null then
    return null;
  end if;
  update patients p
     set linked_at = r.at
    from (select n.patient_id, min(coalesce(n.sent_at, n.delivered_at, now())) as at
            from reached_rows n
           where n.status in ('sent', 'delivered') and n.caregiver_id is null
             and n.patient_id is not null
           group by n.patient_id) r
   where p.id = any(v_patients) and p.id = r.patient_id and p.linked_at is null;
  return null;
end
$$;
revoke all on function public.scheduled_messages_link_patients()
  from public, anon, authenticated;
