-- Whether a patient's quiet hours hold an instant: for a group message's confirmation (the
-- dashboard's Compose, POST /api/v1/messages/group), which says how many of its recipients an
-- urgent message reaches at night.
--
-- An urgent message is not deferred by quiet hours (scheduler/quiet_hours.py is_deferrable): a
-- group message ticked Urgent at 22:30 woke every patient of the group inside their window, and
-- the count the clinician confirmed said nothing of it. The window is the dispatcher's for a
-- clinic's patient (scheduler/quiet_hours.py recipient_window): the patient's own when both ends
-- are set, else the clinic's default (never null: organizations.default_quiet_start/_end), in
-- the patient's zone; [start, end), crossing midnight when start > end, empty when equal.
--
-- SECURITY INVOKER: the caller's row-level security applies (a clinician sees their clinic's
-- patients only; the service's role passes the API key's organization, required of the patient).
-- Null: no such patient, or a zone PostgreSQL does not know (Etc/Unknown: planned nothing).
create function public.patient_quiet_at(p_patient uuid, p_organization uuid, p_at timestamptz)
  returns boolean language plpgsql stable set search_path = public, pg_temp as $$
declare
  zone text;
  w_start time;
  w_end time;
  local_time time;
begin
  select p.timezone,
         case when p.quiet_start is not null and p.quiet_end is not null then p.quiet_start
              else o.default_quiet_start end,
         case when p.quiet_start is not null and p.quiet_end is not null then p.quiet_end
              else o.default_quiet_end end
    into zone, w_start, w_end
    from patients p join organizations o on o.id = p.organization_id
   where p.id = p_patient and p.organization_id = p_organization and p.status <> 'deleted';
  if not found then
    return null;
  end if;
  if w_start = w_end then
    return false;
  end if;
  begin
    local_time := (p_at at time zone zone)::time;
  exception when invalid_parameter_value then
    return null;
  end;
  if w_start < w_end then
    return local_time >= w_start and local_time < w_end;
  end if;
  return local_time >= w_start or local_time < w_end;
end
$$;
comment on function public.patient_quiet_at(uuid, uuid, timestamptz) is
  'Whether the patient''s quiet window (own, else the clinic''s default) holds p_at, in their zone; RLS applies';
revoke all on function public.patient_quiet_at(uuid, uuid, timestamptz) from public, anon;
grant execute on function public.patient_quiet_at(uuid, uuid, timestamptz)
  to authenticated, medremind_app;
