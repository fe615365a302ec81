-- The API's patient search (GET /api/v1/patients?q=, POST /api/v1/messages/group) took 0.3-0.9 s
-- on a clinic of 20,000 patients: public.patient_matches_search (migration 20260101018120) ran
-- once a patient, and each call looked through the patient's contact points, a phone search
-- taking the digits of every address with a regular expression (tests/perf/patient_search_timing.py).
-- Now the queries (core/sql/clinic_ops.sql list_patients, core/sql/message_groups.sql members)
-- compare the stored folded name inline, and find the patients a contact address names once a
-- search, through indexes: the address as typed by (channel, address), a phone number's digits by
-- the index below. The name stays a scan of the clinic's rows (~1 us a patient): an index for
-- "contains" needs pg_trgm, which the embedded server does not have.

-- A phone number's digits written backwards: "ends with the search's digits" is then a range of
-- this index (from the reversed digits to the same followed by ':', the character after '9'),
-- which a generic plan can use too (a LIKE prefix needs its pattern when the plan is made).
create index contact_points_phone_digits_idx on public.contact_points
  ((pg_catalog.reverse(pg_catalog.regexp_replace(address, '[^0-9]', '', 'g')) collate "C"))
  where channel in ('sms', 'whatsapp');

-- The listing's order (created_at, id) within a clinic: a page, or a search that matches many,
-- stops at its limit instead of sorting every patient of the clinic.
create index patients_org_created_idx on public.patients (organization_id, created_at, id);

-- The patients (ids) whose contact point p_q names: the address exactly as typed on any channel,
-- an e-mail address however it is capitalised, or a phone number (SMS, WhatsApp) whose digits
-- end with those of p_q when p_q is written like a phone number with 7 digits or more, national
-- trunk zeros aside ("612 345 678", "(415) 555-0100", "+44 7700 900123"), as
-- patient_matches_search found them. Called once a query: `p.id in (select ...)`. Security
-- invoker: a clinician's row-level security applies.
create function public.patients_with_contact(p_q text) returns setof uuid
  language sql stable strict set search_path = public, pg_temp as $$
  select c.patient_id from contact_points c
   where c.channel = any (array['telegram', 'whatsapp', 'sms', 'email', 'console'])
         and c.address = p_q
      or c.channel = 'email' and c.address = public.email_address_canonical(p_q)
      or c.channel in ('sms', 'whatsapp')
         and (reverse(regexp_replace(c.address, '[^0-9]', '', 'g')) collate "C")
             between (select reverse(d) from public.search_phone_digits(p_q) d where length(d) >= 7)
                 and (select reverse(d) || ':' from public.search_phone_digits(p_q) d
                       where length(d) >= 7)
$$;
revoke all on function public.patients_with_contact(text) from public, anon;
grant execute on function public.patients_with_contact(text) to authenticated, medremind_app;
