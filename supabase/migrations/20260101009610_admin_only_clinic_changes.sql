-- What changes the clinic itself is an admin's (issue 17: clinicians.role 'admin' was stored and
-- never checked): its settings (organizations), its message templates and its API keys. A
-- signed-in clinician who is not an admin (the dashboard, PostgREST) gets an error naming the
-- rule (SQLSTATE 42501, insufficient_privilege), not a silent no-op as a row policy would give
-- an UPDATE. The service's own role (medremind_app: the API, which checks the API key's role,
-- the worker, migrations) has no auth.uid() and is not concerned. Outgoing webhooks and provider
-- accounts are read-only to the dashboard's role already (their writes go through the API or
-- public.issue_clinic_admin_token, which checks the role).

create function public.current_clinician_is_admin() returns boolean
  language sql stable security definer set search_path = public, pg_temp as $$
  select coalesce((select role = 'admin' from public.clinicians where id = auth.uid()), false)
$$;
revoke all on function public.current_clinician_is_admin() from public;
grant execute on function public.current_clinician_is_admin() to authenticated, medremind_app;

create function public.refuse_clinic_change_by_non_admin() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if auth.uid() is not null and not public.current_clinician_is_admin() then
    raise exception 'only an admin of the clinic can change its %', tg_argv[0]
      using errcode = '42501',
            hint = 'ask an admin of your clinic, or to be made one (clinicians.role = admin)';
  end if;
  return coalesce(new, old);
end
$$;
revoke all on function public.refuse_clinic_change_by_non_admin() from public;

create trigger organizations_admin_only before update on public.organizations
  for each row execute function public.refuse_clinic_change_by_non_admin('settings');
create trigger message_templates_admin_only before insert or update or delete
  on public.message_templates
  for each row execute function public.refuse_clinic_change_by_non_admin('templates');
create trigger api_keys_admin_only before insert or update or delete on public.api_keys
  for each row execute function public.refuse_clinic_change_by_non_admin('API keys');
