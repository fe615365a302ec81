-- The claim cache's notices of updates of clinics and contact points (20260101012000
-- claim_cache_organizations_changed, claim_cache_contact_points_changed) read each id's old and
-- new row grouped, as 20260101015240 does for patients, not a join of the statement's transition
-- tables: the join's plan is cached at the first firing of a session, and a nested loop planned
-- for a one-row first update (a clinic's settings saved, one contact point opted out) compared
-- every old row with every new one of a later batch (bench/claim_cache_triggers.py).
--
-- Same notices: a clinic's id when its cached columns changed; a contact point's patient (both
-- patients when a merge moves it) when its cached columns changed. Ids do not change; a row
-- value counts null columns as equal, as IS DISTINCT FROM does. In id order; the workers read the
-- payload as a set (scheduler/claim_cache.py). Inserts and deletes notify as before.

create or replace function public.claim_cache_organizations_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'DELETE' then
    perform claim_cache_notify('o', array(select distinct o.id from old_rows o));
  else
    perform claim_cache_notify('o', array(
      select x.id
        from (select n.id, n.name, n.default_quiet_start, n.default_quiet_end from new_rows n
              union all
              select o.id, o.name, o.default_quiet_start, o.default_quiet_end from old_rows o) x
       group by x.id
      having count(distinct (x.name, x.default_quiet_start, x.default_quiet_end)) > 1
       order by x.id));
  end if;
  return null;
end
$$;
revoke all on function public.claim_cache_organizations_changed() from public, anon, authenticated;

-- A changed contact point's patients: its old and new patient_id, gathered per id in the same
-- pass (an array per changed id, at most two entries), so nothing joins the transition tables.
create or replace function public.claim_cache_contact_points_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'INSERT' then
    perform claim_cache_notify('p', array(select distinct n.patient_id from new_rows n));
  elsif tg_op = 'DELETE' then
    perform claim_cache_notify('p', array(select distinct o.patient_id from old_rows o));
  else
    perform claim_cache_notify('p', array(
      select distinct p.patient_id
        from (select array_agg(distinct x.patient_id) as patients
                from (select n.id, n.patient_id, n.channel, n.address, n.active, n.opted_out_at,
                             n.blocked_at, n.telegram_bot
                        from new_rows n
                      union all
                      select o.id, o.patient_id, o.channel, o.address, o.active, o.opted_out_at,
                             o.blocked_at, o.telegram_bot
                        from old_rows o) x
               group by x.id
              having count(distinct (x.patient_id, x.channel, x.address, x.active,
                                     x.opted_out_at, x.blocked_at, x.telegram_bot)) > 1) g
       cross join lateral unnest(g.patients) as p(patient_id)
       order by p.patient_id));
  end if;
  return null;
end
$$;
revoke all on function public.claim_cache_contact_points_changed()
  from public, anon, authenticated;
