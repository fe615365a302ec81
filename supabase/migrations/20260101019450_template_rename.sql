-- A template can be renamed, every version at once, with the messages waiting to be sent with it.
--
-- A template stored with a line break in its name before the one-line rule (migration
-- 20260101019020: message_templates_name_one_line) could take no new version: the API's PUT and
-- the dashboard's form refuse such a name first, and the database refuses a new row with it. Its
-- versions could be deleted one by one, losing their texts, and nothing renamed it. Now
-- public.rename_template gives all of a template's versions a new name in one statement (the
-- one-line trigger checks the new name, as for any write of it), and moves the messages still
-- waiting to be sent with the template to the new name: the worker finds a template by name at
-- send time, and would fail them. A message sent before keeps the name it was sent with.
--
-- Who may: the service's role for the clinic it names (the API, PATCH /api/v1/templates/{name},
-- checks the API key's role); a signed-in clinician for their own clinic only (caller_acts_for,
-- migration 20260101019100: another clinic's template is not found), and only as its admin
-- (message_templates_admin_only). SECURITY DEFINER because the
-- clinician's role may not move a waiting message's template (their policies let them edit its
-- text, not re-point it); the caller's claims still hold inside (the admin check, the audit).
--
-- Refused: a new name another template of the clinic has already (SQLSTATE 23505, constraint
-- message_templates_name_taken: merging two templates' versions would replace texts silently).
-- Returns how many versions were renamed; 0 when the clinic has no template of that name.

create function public.rename_template(p_organization uuid, p_name text, p_new_name text)
returns integer
  language plpgsql volatile security definer set search_path = public, pg_temp as $$
declare
  clinic uuid := p_organization;
  renamed integer;
begin
  if not public.caller_acts_for(clinic) then
    return 0;  -- another clinic's template, as one that does not exist
  end if;
  if p_new_name is distinct from p_name
     and exists (select from message_templates t
                  where t.organization_id = clinic and t.name = p_new_name) then
    raise exception 'another template of the clinic has this name'
      using errcode = '23505', constraint = 'message_templates_name_taken',
            hint = 'choose a name no other template has, or delete that template first';
  end if;
  update message_templates set name = p_new_name, updated_at = now()
   where organization_id = clinic and name = p_name;
  get diagnostics renamed = row_count;
  if renamed > 0 and p_new_name is distinct from p_name then
    update scheduled_messages set template = p_new_name
     where organization_id = clinic and template = p_name and status = 'pending';
  end if;
  return renamed;
end
$$;
comment on function public.rename_template(uuid, text, text) is
  'Every version of a clinic''s template renamed, with its messages waiting to be sent';
revoke all on function public.rename_template(uuid, text, text) from public, anon;
grant execute on function public.rename_template(uuid, text, text)
  to authenticated, medremind_app, service_role;
