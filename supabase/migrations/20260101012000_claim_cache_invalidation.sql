-- The dispatcher's cache of what a claim needs beyond the message (issue 20): each worker keeps
-- its patients by id, each with the clinic's name and quiet-hours defaults, the contact points and
-- the category preferences (scheduler/claim_cache.py), instead of joining them into every claim.
-- These statement triggers tell the workers which entries an edit made stale: NOTIFY
-- medremind_cache with '<kind>:<id>,<id>...' ('p' patient, 'o' clinic) or '<kind>:*' (too many
-- ids for one payload, or a truncate: drop every entry of that kind). Ids only: no PHI.
--
-- An update notifies only the rows whose cached columns changed (a patient's home zone, a
-- contact point's last error do not). Notifications are delivered at commit, in commit order; a
-- claim sends one of its own (a barrier) so that a worker has seen every edit its claim could see
-- before it trusts its cache (see claim_cache.py). What changes per dose (the dose's answer, its
-- medicine's status, the appointment, the caregiver) stays in the claim's own statement.
--
-- The functions run as their owner (security definer): the writer may be a clinician through
-- PostgREST, who has no grant on claim_cache_notify.

create function public.claim_cache_notify(p_kind text, p_ids uuid[]) returns void
language sql security definer set search_path = public, pg_temp as $$
  -- 200 ids of 37 bytes stay under NOTIFY's 8,000-byte payload.
  select pg_notify('medremind_cache',
                   p_kind || ':' || case when cardinality(p_ids) > 200 then '*'
                                         else array_to_string(p_ids, ',') end)
   where cardinality(p_ids) > 0
$$;

create function public.claim_cache_patients_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'DELETE' then
    perform claim_cache_notify('p', array(select distinct o.id from old_rows o));
  else
    perform claim_cache_notify('p', array(
      select n.id from new_rows n join old_rows o on o.id = n.id
       where (n.locale, n.timezone, n.display_name, n.quiet_start, n.quiet_end,
              n.name_medicine_in_reminders, n.status, n.reminders_paused, n.consent_at,
              n.organization_id, n.channel_order)
             is distinct from
             (o.locale, o.timezone, o.display_name, o.quiet_start, o.quiet_end,
              o.name_medicine_in_reminders, o.status, o.reminders_paused, o.consent_at,
              o.organization_id, o.channel_order)));
  end if;
  return null;
end
$$;

create function public.claim_cache_organizations_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'DELETE' then
    perform claim_cache_notify('o', array(select distinct o.id from old_rows o));
  else
    perform claim_cache_notify('o', array(
      select n.id from new_rows n join old_rows o on o.id = n.id
       where (n.name, n.default_quiet_start, n.default_quiet_end)
             is distinct from (o.name, o.default_quiet_start, o.default_quiet_end)));
  end if;
  return null;
end
$$;

-- A contact point or a preference belongs to its patient's entry: an insert, a delete or a
-- change notifies the patient (both patients when a merge moves it).
create function public.claim_cache_contact_points_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'INSERT' then
    perform claim_cache_notify('p', array(select distinct n.patient_id from new_rows n));
  elsif tg_op = 'DELETE' then
    perform claim_cache_notify('p', array(select distinct o.patient_id from old_rows o));
  else
    perform claim_cache_notify('p', array(
      select distinct x.patient_id
        from new_rows n join old_rows o on o.id = n.id
       cross join lateral (values (n.patient_id), (o.patient_id)) as x(patient_id)
       where (n.patient_id, n.channel, n.address, n.active, n.opted_out_at, n.blocked_at,
              n.telegram_bot)
             is distinct from
             (o.patient_id, o.channel, o.address, o.active, o.opted_out_at, o.blocked_at,
              o.telegram_bot)));
  end if;
  return null;
end
$$;

create function public.claim_cache_preferences_changed() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_op = 'INSERT' then
    perform claim_cache_notify('p', array(select distinct n.patient_id from new_rows n));
  elsif tg_op = 'DELETE' then
    perform claim_cache_notify('p', array(select distinct o.patient_id from old_rows o));
  else
    perform claim_cache_notify('p', array(
      select distinct x.patient_id
        from new_rows n join old_rows o on o.patient_id = n.patient_id
                                        and o.category = n.category
       cross join lateral (values (n.patient_id), (o.patient_id)) as x(patient_id)
       where (n.patient_choice, n.clinic_choice, n.channel)
             is distinct from (o.patient_choice, o.clinic_choice, o.channel)
      union
      -- A row whose key changed matches no old row by key: its patient(s) still change.
      select n.patient_id from new_rows n
       where not exists (select from old_rows o
                          where o.patient_id = n.patient_id and o.category = n.category)
      union
      select o.patient_id from old_rows o
       where not exists (select from new_rows n
                          where n.patient_id = o.patient_id and n.category = o.category)));
  end if;
  return null;
end
$$;

create function public.claim_cache_truncated() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
begin
  perform pg_notify('medremind_cache', tg_argv[0] || ':*');
  return null;
end
$$;

revoke all on function public.claim_cache_notify(text, uuid[]) from public, anon, authenticated;
revoke all on function public.claim_cache_patients_changed() from public, anon, authenticated;
revoke all on function public.claim_cache_organizations_changed() from public, anon, authenticated;
revoke all on function public.claim_cache_contact_points_changed()
  from public, anon, authenticated;
revoke all on function public.claim_cache_preferences_changed() from public, anon, authenticated;
revoke all on function public.claim_cache_truncated() from public, anon, authenticated;

-- Transition tables need one trigger per event. Inserts of patients and clinics notify nothing:
-- a new id is in no cache.
create trigger patients_claim_cache_update after update on public.patients
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.claim_cache_patients_changed();
create trigger patients_claim_cache_delete after delete on public.patients
  referencing old table as old_rows
  for each statement execute function public.claim_cache_patients_changed();
create trigger patients_claim_cache_truncate after truncate on public.patients
  for each statement execute function public.claim_cache_truncated('p');

create trigger organizations_claim_cache_update after update on public.organizations
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.claim_cache_organizations_changed();
create trigger organizations_claim_cache_delete after delete on public.organizations
  referencing old table as old_rows
  for each statement execute function public.claim_cache_organizations_changed();
create trigger organizations_claim_cache_truncate after truncate on public.organizations
  for each statement execute function public.claim_cache_truncated('o');

create trigger contact_points_claim_cache_insert after insert on public.contact_points
  referencing new table as new_rows
  for each statement execute function public.claim_cache_contact_points_changed();
create trigger contact_points_claim_cache_update after update on public.contact_points
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.claim_cache_contact_points_changed();
create trigger contact_points_claim_cache_delete after delete on public.contact_points
  referencing old table as old_rows
  for each statement execute function public.claim_cache_contact_points_changed();
create trigger contact_points_claim_cache_truncate after truncate on public.contact_points
  for each statement execute function public.claim_cache_truncated('p');

create trigger patient_preferences_claim_cache_insert after insert on public.patient_preferences
  referencing new table as new_rows
  for each statement execute function public.claim_cache_preferences_changed();
create trigger patient_preferences_claim_cache_update after update on public.patient_preferences
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.claim_cache_preferences_changed();
create trigger patient_preferences_claim_cache_delete after delete on public.patient_preferences
  referencing old table as old_rows
  for each statement execute function public.claim_cache_preferences_changed();
create trigger patient_preferences_claim_cache_truncate
  after truncate on public.patient_preferences
  for each statement execute function public.claim_cache_truncated('p');
