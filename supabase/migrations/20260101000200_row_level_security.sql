-- Row-level security on every table. A clinician (auth.uid() in clinicians) sees only the rows of
-- their organization; anon sees nothing; the service processes use medremind_app, never service_role.

-- The signed-in clinician's organization. SECURITY DEFINER so the lookup itself is not filtered by
-- the clinicians policy (which would recurse); it reveals nothing beyond the caller's own row.
create function public.current_organization_id() returns uuid
  language sql stable security definer set search_path = public, pg_temp as $$
  select organization_id from public.clinicians where id = auth.uid()
$$;
revoke all on function public.current_organization_id() from public;
grant execute on function public.current_organization_id() to authenticated, medremind_app;

-- A patient belongs to the caller's organization (used by tables that hang off patients).
create function public.patient_in_my_organization(p_patient_id uuid) returns boolean
  language sql stable security definer set search_path = public, pg_temp as $$
  select exists (
    select 1 from public.patients p
    where p.id = p_patient_id
      and p.organization_id is not null
      and p.organization_id = public.current_organization_id()
  )
$$;
revoke all on function public.patient_in_my_organization(uuid) from public;
grant execute on function public.patient_in_my_organization(uuid) to authenticated, medremind_app;

-- Messages inserted by a clinician or an integration carry their patient's organization.
create function public.fill_message_organization() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if new.organization_id is null then
    select organization_id into new.organization_id from public.patients where id = new.patient_id;
  end if;
  return new;
end
$$;
create trigger scheduled_messages_fill_org before insert on scheduled_messages
  for each row execute function public.fill_message_organization();

do $$
declare
  t text;
  all_tables text[] := array[
    'organizations', 'clinicians', 'patients', 'patient_invites', 'contact_points', 'caregivers',
    'medications', 'reminder_schedules', 'dose_events', 'appointments', 'scheduled_messages',
    'message_delivery_attempts', 'delivery_status_events', 'conversations', 'inbound_messages',
    'message_templates', 'api_keys', 'api_idempotency_keys', 'audit_log'];
begin
  foreach t in array all_tables loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    -- The service role of the processes: full access to the rows, no DDL, no superuser powers.
    execute format('grant select, insert, update, delete on public.%I to medremind_app', t);
    execute format(
      'create policy %I on public.%I for all to medremind_app using (true) with check (true)',
      t || '_service', t);
    execute format('grant all on public.%I to service_role', t);
  end loop;
end
$$;
grant usage on all sequences in schema public to medremind_app;

-- Clinician access, by organization.
grant select, update on organizations to authenticated;
create policy organizations_clinician on organizations for all to authenticated
  using (id = public.current_organization_id())
  with check (id = public.current_organization_id());

grant select on clinicians to authenticated;
create policy clinicians_clinician on clinicians for select to authenticated
  using (organization_id = public.current_organization_id());

do $$
declare t text;
begin
  -- Tables with an organization_id column.
  foreach t in array array['patients', 'patient_invites', 'appointments', 'message_templates',
    'scheduled_messages'] loop
    execute format('grant select, insert, update, delete on public.%I to authenticated', t);
    execute format(
      'create policy %I on public.%I for all to authenticated '
      'using (organization_id = public.current_organization_id()) '
      'with check (organization_id = public.current_organization_id())',
      t || '_clinician', t);
  end loop;
  -- Tables hanging off a patient.
  foreach t in array array['contact_points', 'caregivers', 'medications', 'reminder_schedules',
    'dose_events'] loop
    execute format('grant select, insert, update, delete on public.%I to authenticated', t);
    execute format(
      'create policy %I on public.%I for all to authenticated '
      'using (public.patient_in_my_organization(patient_id)) '
      'with check (public.patient_in_my_organization(patient_id))',
      t || '_clinician', t);
  end loop;
end
$$;

-- Delivery attempts are visible through the message they belong to (its own policy applies).
grant select on message_delivery_attempts to authenticated;
create policy message_delivery_attempts_clinician on message_delivery_attempts for select
  to authenticated
  using (exists (select 1 from scheduled_messages m where m.id = message_id));

grant select on audit_log to authenticated;
create policy audit_log_clinician on audit_log for select to authenticated
  using (organization_id = public.current_organization_id());

-- API keys: clinicians of the organization may list (hashes only) and revoke.
grant select, update on api_keys to authenticated;
create policy api_keys_clinician on api_keys for all to authenticated
  using (organization_id = public.current_organization_id())
  with check (organization_id = public.current_organization_id());

-- auth.users is Supabase's; off Supabase we protect it the same way (own row only).
do $$
begin
  if not exists (
    select 1 from pg_policies where schemaname = 'auth' and tablename = 'users'
  ) and (select relowner = (select oid from pg_roles where rolname = current_user)
         from pg_class where oid = 'auth.users'::regclass) then
    alter table auth.users enable row level security;
    grant select on auth.users to authenticated;
    create policy users_self on auth.users for select to authenticated using (id = auth.uid());
    grant select on auth.users to medremind_app;
    create policy users_service on auth.users for select to medremind_app using (true);
  end if;
end
$$;
