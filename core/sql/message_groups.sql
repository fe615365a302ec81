-- A message to a group of a clinic's patients (medremind/web/api_v1/message_groups.py,
-- POST /api/v1/messages/group). Per member, the rules of one patient's message: where it can go
-- and whether it is due within the refusal window (public.message_reach, migration
-- 20260101015200) and whether their quiet hours hold it (public.patient_quiet_at, migration
-- 20260101016850).

-- name: members
-- Organization $1's patients who are active or invited (not consented yet: given nothing, and
-- named) matching $2 as GET /patients?q= does (core/sql/clinic_ops.sql list_patients; null:
-- every patient; $3 its name pattern, medremind.web.api_v1.fields.name_pattern, folded here
-- once: migrations 20260101018120, 20260101018220). A message of category
-- payload $4 on platform $5 (fallback $6) due at $7, with now $8. At most $9 rows, oldest first.
-- cap_window...retry_at: the clinic's messages per patient are at the cap (migration
-- 20260101018340): given nothing, and named.
select p.id, r.consented, r.route, r.usable_channels, r.channel_order, r.due_soon,
       r.refusal_minutes,
       coalesce(public.patient_quiet_at(p.id, p.organization_id, $7), false) as at_night,
       cap.time_window as cap_window, cap.message_limit, cap.setting, cap.retry_at
  from patients p
 cross join lateral public.message_reach(p.id, p.organization_id, 'free_text', $4::jsonb, $5, $6,
                                         $7, $8) r
  left join lateral public.clinic_message_refusal(p.id) cap on true
 where p.organization_id = $1 and p.status in ('active', 'invited')
   and ($2::text is null
        or p.search_name ilike (select '%' || public.search_fold($3) || '%')
        or p.external_id = $2
        or p.id in (select public.patients_with_contact($2)))
 order by p.created_at, p.id
 limit $9
