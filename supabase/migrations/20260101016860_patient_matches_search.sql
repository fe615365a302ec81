-- Which patients a search names, in one place: GET /api/v1/patients?q= (core/sql/clinic_ops.sql
-- list_patients) and POST /api/v1/messages/group (core/sql/message_groups.sql members) find the
-- same patients for the same q. A part of the name (p_pattern: q with LIKE's wildcards escaped,
-- composed as names are stored), or an exact external id or contact address (p_q); a null q
-- matches every patient. SECURITY INVOKER: the caller's row-level security applies.
create function public.patient_matches_search(p_patient public.patients, p_q text, p_pattern text)
  returns boolean language sql stable set search_path = public, pg_temp as $$
  select p_q is null
      or p_patient.display_name ilike '%' || p_pattern || '%' escape '\'
      or p_patient.external_id = p_q
      or exists (select 1 from contact_points c
                  where c.patient_id = p_patient.id and c.address = p_q)
$$;
revoke all on function public.patient_matches_search(public.patients, text, text) from public, anon;
grant execute on function public.patient_matches_search(public.patients, text, text)
  to authenticated, medremind_app;
