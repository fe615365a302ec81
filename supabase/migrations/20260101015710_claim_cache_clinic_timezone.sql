-- The claim cache holds each clinic's time zone too (dispatch.sql claim_patients:
-- organization_timezone): its appointment messages name the clinic's time beside the patient's
-- own when the zones differ (scheduler/appointment_times.py). A clinic's new zone must reach the
-- workers as its new name or quiet hours do, so the notice of an update of organizations
-- (20260101015550) counts the zone among the cached columns. Same notices otherwise.

create or replace function public.claim_cache_organizations_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'DELETE' then
    perform claim_cache_notify('o', array(select distinct o.id from old_rows o));
  else
    perform claim_cache_notify('o', array(
      select x.id
        from (select n.id, n.name, n.default_quiet_start, n.default_quiet_end, n.timezone
                from new_rows n
              union all
              select o.id, o.name, o.default_quiet_start, o.default_quiet_end, o.timezone
                from old_rows o) x
       group by x.id
      having count(distinct (x.name, x.default_quiet_start, x.default_quiet_end, x.timezone)) > 1
       order by x.id));
  end if;
  return null;
end
$$;
revoke all on function public.claim_cache_organizations_changed() from public, anon, authenticated;
