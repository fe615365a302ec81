-- The claim cache's notice of patients' updates (20260101012000 claim_cache_patients_changed)
-- reads each id's old and new row grouped, as 20260101015230 does for reachability, not a join
-- of the statement's transition tables: the join's plan is cached at the first firing of a
-- session, and a nested loop planned for a few rows compared every old row with every new one
-- of a later batch (500 first sends, each linking its patient: ~80 ms, bench/import_patients.py).
--
-- Same notices: the ids whose cached columns changed (neither table's id changes; a row value
-- counts null columns as equal, as IS DISTINCT FROM does), in id order; the workers read the
-- payload as a set (scheduler/claim_cache.py). A delete notifies every id, as before.

create or replace function public.claim_cache_patients_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'DELETE' then
    perform claim_cache_notify('p', array(select distinct o.id from old_rows o));
  else
    perform claim_cache_notify('p', array(
      select x.id
        from (select n.id, n.locale, n.timezone, n.display_name, n.quiet_start, n.quiet_end,
                     n.name_medicine_in_reminders, n.status, n.reminders_paused, n.consent_at,
                     n.organization_id, n.channel_order
                from new_rows n
              union all
              select o.id, o.locale, o.timezone, o.display_name, o.quiet_start, o.quiet_end,
                     o.name_medicine_in_reminders, o.status, o.reminders_paused, o.consent_at,
                     o.organization_id, o.channel_order
                from old_rows o) x
       group by x.id
      having count(distinct (x.locale, x.timezone, x.display_name, x.quiet_start, x.quiet_end,
                             x.name_medicine_in_reminders, x.status, x.reminders_paused,
                             x.consent_at, x.organization_id, x.channel_order)) > 1
       order by x.id));
  end if;
  return null;
end
$$;
revoke all on function public.claim_cache_patients_changed() from public, anon, authenticated;
