-- Where a clinician's message to a patient can go, and whether it is due too soon to wait for the
-- patient to become reachable again: one definition for the JSON API (core/sql/web.sql
-- patient_channels, medremind/web/api_v1/message_reach.py) and the dashboard's Compose
-- (dashboard/src/lib/data/messages.ts composeReach and its group insert), which each had their
-- own copy of the select and of the route before.
--
-- route: the channels the worker would try, in its order (scheduler/routing.py plan_routes): the
-- message's platform first (for `auto`, the patient's channel for the message's category, if any),
-- then, when fallback is allowed (always for `auto`), the rest of the patient's channel order;
-- only channels with a contact point that may be written to now (active, not opted out, not
-- blocked: dispatch.sql claim_patients contact_usable). Empty: the message would fail unsent with
-- "no usable contact point".
--
-- due_soon: the message is due within public.unreachable_refusal_minutes() (15) of p_now, which
-- refusal_minutes gives the callers for their texts. The policy both callers apply
-- (docs/api.md "A patient no channel can reach"): with an empty route such a message is refused
-- (it would fail at once, or within minutes, before the patient could realistically be asked to
-- reply START), a later one is accepted with a warning (the patient may opt back in meanwhile).
--
-- 15 minutes: a message due sooner is claimed when due (the worker polls every few seconds and
-- wakes on NOTIFY) and fails at once; a clinic cannot realistically have the patient opt back in
-- within that time, while a message planned for later (the Compose form's default is an hour
-- ahead) leaves them the time to.
create function public.unreachable_refusal_minutes() returns integer
  language sql immutable parallel safe as $$ select 15 $$;
revoke all on function public.unreachable_refusal_minutes() from public, anon;
grant execute on function public.unreachable_refusal_minutes() to authenticated, medremind_app;

-- SECURITY INVOKER (the default): the caller's row-level security applies. A clinician
-- (authenticated) sees only their organization's patients, contact points and preferences; the
-- service's role passes the API key's organization, which the function requires of the patient,
-- so no caller learns anything of another clinic's patient (no row).
create function public.message_reach(
  p_patient uuid, p_organization uuid, p_kind text, p_payload jsonb, p_platform text,
  p_fallback boolean, p_scheduled timestamptz, p_now timestamptz)
  returns table (channel_order text[], category_channel text, consented boolean,
                 usable_channels text[], route text[], due_soon boolean,
                 refusal_minutes integer)
  language sql stable set search_path = public, pg_temp as $$
  with patient as (
    select p.id, p.channel_order, pp.channel as category_channel,
           p.consent_at is not null as consented,
           coalesce((select array_agg(distinct cp.channel order by cp.channel)
                       from contact_points cp
                      where cp.patient_id = p.id and cp.active
                        and cp.opted_out_at is null and cp.blocked_at is null),
                    '{}') as usable_channels,
           case when p_platform = 'auto' then pp.channel else p_platform end as first_channel
      from patients p
      left join patient_preferences pp
             on pp.patient_id = p.id and pp.category = public.message_category(p_kind, p_payload)
     where p.id = p_patient and p.organization_id = p_organization and p.status <> 'deleted'
  )
  select pt.channel_order, pt.category_channel, pt.consented, pt.usable_channels,
         coalesce((select array_agg(o.channel order by o.rank)
                     from (select pt.first_channel as channel, 0 as rank
                            where pt.first_channel is not null
                           union all
                           select c.channel, c.rank
                             from unnest(pt.channel_order) with ordinality as c(channel, rank)
                            where (p_platform = 'auto' or p_fallback)
                              and c.channel is distinct from pt.first_channel) o
                    where o.channel = any(pt.usable_channels)),
                  '{}') as route,
         p_scheduled < p_now + make_interval(mins => public.unreachable_refusal_minutes())
           as due_soon,
         public.unreachable_refusal_minutes() as refusal_minutes
    from patient pt
$$;
comment on function public.message_reach(uuid, uuid, text, jsonb, text, boolean, timestamptz,
                                         timestamptz) is
  'Where a message to the patient can go now (route, in the worker''s order) and whether it is due within unreachable_refusal_minutes() (refused when unreachable); RLS applies';
revoke all on function public.message_reach(uuid, uuid, text, jsonb, text, boolean, timestamptz,
                                            timestamptz) from public, anon;
grant execute on function public.message_reach(uuid, uuid, text, jsonb, text, boolean,
                                               timestamptz, timestamptz)
  to authenticated, medremind_app;
