-- The updates that change reachability refresh it once per statement too (as the inserts and
-- deletes do since 20260101015220): a patient's channel order changed or their first link
-- (20260101013300 patients_reachability_changed, 20260101013800 patients_reachability_linked),
-- a contact point's usability changed (contact_points_reachability_changed).
--
-- Each row trigger planned refresh_patient_reachability's statement again (~1 ms). The
-- dispatcher records a batch of sends in one statement, and the first send to a patient links
-- them: a batch of first reminders after an import (each patient not linked yet) spent ~1 ms
-- per message in these re-plans (bench/import_patients.py's clinic, 500 first sends: ~0.5 s).
--
-- Same conditions as the row triggers' WHEN, read from the statement's transition tables: each
-- id's old and new row grouped (neither table's id changes), the condition tested on the pair.
-- Not a join of the two tables: its plan is cached at the first firing of a session, and a
-- nested loop planned for a few rows compared every old row with every new one of a batch of
-- 500 (~0.2 s). The function returns at once when no row meets them (most updates of patients
-- and contact points). A row trigger ran after the whole statement too, so each patient's
-- refresh sees the same rows.

create function public.patients_reachability_updated() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_patients uuid[];
begin
  select array_agg(c.id) into v_patients
    from (select x.id
            from (select n.id, false as old, n.channel_order, n.linked_at is not null as linked
                    from new_rows n
                  union all
                  select o.id, true, o.channel_order, o.linked_at is not null from old_rows o) x
           group by x.id
           -- Two orders: it changed (a row value counts when the order is null too).
          having count(distinct row(x.channel_order)) > 1
              or (bool_and(not x.linked) filter (where x.old)
                  and bool_and(x.linked) filter (where not x.old))) c;
  if v_patients is not null then
    perform public.refresh_patient_reachability(v_patients);
  end if;
  return null;
end
$$;
revoke all on function public.patients_reachability_updated() from public, anon, authenticated;

create function public.contact_points_reachability_updated() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  v_patients uuid[];
begin
  -- Both patients when a merge moves the contact point.
  select array_agg(distinct p.patient_id) into v_patients
    from (select array_agg(x.patient_id) as patients
            from (select n.id, n.active, n.opted_out_at is null as open,
                         n.blocked_at is null as unblocked, n.channel, n.patient_id
                    from new_rows n
                  union all
                  select o.id, o.active, o.opted_out_at is null, o.blocked_at is null, o.channel,
                         o.patient_id
                    from old_rows o) x
           group by x.id
          having count(distinct (x.active, x.open, x.unblocked, x.channel, x.patient_id)) > 1) c
   cross join lateral unnest(c.patients) as p(patient_id);
  if v_patients is not null then
    perform public.refresh_patient_reachability(v_patients);
  end if;
  return null;
end
$$;
revoke all on function public.contact_points_reachability_updated()
  from public, anon, authenticated;

-- Transition tables take no column list (UPDATE OF): the function tests the columns.
drop trigger patients_reachability_changed on public.patients;
drop trigger patients_reachability_linked on public.patients;
create trigger patients_reachability_changed after update on public.patients
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.patients_reachability_updated();

drop trigger contact_points_reachability_changed on public.contact_points;
create trigger contact_points_reachability_changed after update on public.contact_points
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.contact_points_reachability_updated();
