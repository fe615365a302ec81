-- An audit row for each clinician or API action that changes what a patient receives (issue 17),
-- written by triggers in the changing transaction, so no path (dashboard, PostgREST, API, a
-- future one) can skip it: messages scheduled, sent now, changed or cancelled; appointments
-- booked, moved, cancelled, marked attended or no-show (the dashboard's no-show mark was not
-- audited); templates created, changed or deleted; clinic settings; a patient's settings,
-- medicines and reminder schedules.
--
-- Who: the signed-in clinician (auth.uid(), the dashboard and PostgREST) as 'clinician:<uuid>',
-- else the API key the API named for its transaction (medremind.actor = 'api_key:<prefix>',
-- medremind/web/api_v1). Neither: the service or the patient acted (the worker, the planner, the
-- bot), which this audit is not about (the patient's own answers are audited where they are
-- recorded). What: the action, the table and row id, and only ids, statuses, kinds, times and the
-- names of changed columns in details: never a message body, a name or a medicine.

-- The clinician or API key acting in this transaction, or null.
create function public.audit_actor() returns text
  language sql stable parallel safe set search_path = public, pg_temp as $$
  select coalesce('clinician:' || auth.uid()::text,
                  nullif(current_setting('medremind.actor', true), ''))
$$;
revoke all on function public.audit_actor() from public;
grant execute on function public.audit_actor() to authenticated, medremind_app, service_role;

-- Column names whose value differs between two versions of a row (bookkeeping columns left out).
create function public.audit_changed_columns(p_old jsonb, p_new jsonb) returns text[]
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  select coalesce(array_agg(n.key order by n.key), '{}')
    from jsonb_each(p_new) n
   where p_old -> n.key is distinct from n.value
     and n.key not in ('updated_at', 'locked_by', 'locked_until', 'lease_token', 'attempts')
$$;
revoke all on function public.audit_changed_columns(jsonb, jsonb) from public;

create function public.audit_patient_facing_change() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
declare
  actor text := public.audit_actor();
  row_new jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  row_old jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  cur jsonb := coalesce(row_new, row_old);
  changed text[] := case when tg_op = 'UPDATE'
                         then public.audit_changed_columns(row_old, row_new) end;
  org uuid;
  entity text;
  action text;
  details jsonb := '{}'::jsonb;
begin
  if actor is null or (tg_op = 'UPDATE' and cardinality(changed) = 0) then
    return null;
  end if;
  case tg_table_name
  when 'scheduled_messages' then
    if cur ->> 'resent_from' is not null then
      return null;  -- a re-send: audited as message.resend (20260101009310)
    end if;
    entity := 'scheduled_message';
    org := (cur ->> 'organization_id')::uuid;
    details := jsonb_build_object('patient_id', cur -> 'patient_id', 'kind', cur -> 'kind',
                                  'platform', cur -> 'platform',
                                  'scheduled_time', cur -> 'scheduled_time',
                                  'urgent', cur -> 'urgent', 'status', cur -> 'status');
    action := case
      when tg_op = 'INSERT' and (cur ->> 'scheduled_time')::timestamptz <= now()
        then 'message.send_now'
      when tg_op = 'INSERT' then 'message.scheduled'
      when tg_op = 'DELETE' then 'message.deleted'
      when 'status' = any(changed) and cur ->> 'status' = 'cancelled' then 'message.cancelled'
      else 'message.changed' end;
  when 'appointments' then
    entity := 'appointment';
    org := (cur ->> 'organization_id')::uuid;
    details := jsonb_build_object('patient_id', cur -> 'patient_id', 'status', cur -> 'status',
                                  'starts_at', cur -> 'starts_at');
    action := case
      when tg_op = 'INSERT' then 'appointment.booked'
      when tg_op = 'DELETE' then 'appointment.deleted'
      when 'status' = any(changed) then case cur ->> 'status'
        when 'cancelled' then 'appointment.cancelled'
        when 'no_show' then 'appointment.no_show'
        when 'completed' then 'appointment.attended'
        else 'appointment.status_changed' end
      when 'starts_at' = any(changed) then 'appointment.rescheduled'
      else 'appointment.changed' end;
    if tg_op = 'UPDATE' then
      details := details || jsonb_build_object('from_status', row_old -> 'status',
                                               'from_starts_at', row_old -> 'starts_at');
    end if;
  when 'message_templates' then
    entity := 'message_template';
    org := (cur ->> 'organization_id')::uuid;
    details := jsonb_build_object('kind', cur -> 'kind', 'locale', cur -> 'locale',
                                  'channel', cur -> 'channel');
    action := 'template.' || case tg_op when 'INSERT' then 'created' when 'DELETE' then 'deleted'
                                         else 'changed' end;
  when 'organizations' then
    entity := 'organization';
    org := (cur ->> 'id')::uuid;
    action := 'settings.changed';
  when 'patients' then
    entity := 'patient';
    org := (cur ->> 'organization_id')::uuid;
    action := case tg_op when 'INSERT' then 'patient.created' when 'DELETE' then 'patient.deleted'
                         else 'patient.settings_changed' end;
  else  -- medications, reminder_schedules: a patient's reminders
    entity := case tg_table_name when 'medications' then 'medication' else 'reminder_schedule' end;
    select p.organization_id into org from patients p where p.id = (cur ->> 'patient_id')::uuid;
    details := jsonb_build_object('patient_id', cur -> 'patient_id');
    action := entity || '.' || case tg_op when 'INSERT' then 'created' when 'DELETE' then 'deleted'
                                           else 'changed' end;
  end case;
  if changed is not null then
    details := details || jsonb_build_object('changed', to_jsonb(changed));
  end if;
  insert into audit_log (organization_id, actor, action, entity, entity_id, details)
  values (org, actor, action, entity, cur ->> 'id', details);
  return null;
end
$$;
revoke all on function public.audit_patient_facing_change() from public;

do $$
declare t text;
begin
  foreach t in array array['scheduled_messages', 'appointments', 'message_templates',
                           'organizations', 'patients', 'medications', 'reminder_schedules'] loop
    -- The WHEN clause keeps the worker's, planner's and bot's writes (no actor) at one cheap
    -- function call per row.
    execute format(
      'create trigger %I after insert or update or delete on public.%I for each row'
      ' when (public.audit_actor() is not null)'
      ' execute function public.audit_patient_facing_change()',
      t || '_audit_clinician_action', t);
  end loop;
end
$$;
