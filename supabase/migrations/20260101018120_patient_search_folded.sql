-- The dashboard's patient search, as clinicians type: "Lucia" finds "Lucía" and "munoz" finds
-- "Muñoz" (accents and case aside), and a phone number typed in national form or with spaces,
-- dashes, dots or brackets ("612 345 678", "(415) 555-0100", "07700 900123") finds the stored
-- E.164 number (+34612345678, +14155550100, +447700900123). Matched in the database, over the
-- clinic's rows only (SECURITY INVOKER: the caller's row-level security applies), by the lists of
-- dashboard/src/lib/data/patients.ts and the group of Compose (dashboard/src/lib/data/messages.ts):
--   p.search_name ilike public.search_like(public.search_fold(q))     the name, accents aside
--   p.external_id ilike public.search_like(q)                         the external id, as typed
--   public.search_address_contains(c.address, c.channel, q)           an address, or its digits
--
-- Language SQL, immutable and without SET clauses, so that the planner inlines them and folds
-- the search text once per query, not once per row. Every name is schema-qualified for that reason.
-- PostgreSQL's normalize() needs a UTF8 database (Supabase's and the embedded one are); no
-- extension is used (unaccent is not in the embedded server).

-- A text as compared by search: decomposed (NFD) with its combining accents (U+0300-U+036F)
-- dropped, and the format characters a pasted name or number carries (zero-width spaces and
-- joiners, direction marks and controls, the byte-order mark) too; the Latin letters that do not
-- decompose are spelled as people type them without the accent (ø, ł, đ, ħ, ı; ß, æ, œ).
create function public.search_fold(p_text text) returns text
  language sql immutable strict parallel safe as $$
  select pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
             pg_catalog.translate(
               pg_catalog.regexp_replace(normalize(p_text, NFD),
                                         '[\u0300-\u036f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]',
                                         '', 'g'),
               'øØłŁđĐħĦı', 'oOlLdDhHi'),
             'ß', 'ss'), 'ẞ', 'SS'), 'æ', 'ae'), 'Æ', 'AE'), 'œ', 'oe'), 'Œ', 'OE'),
           'ĳ', 'ij')
$$;

-- The LIKE pattern of "contains p_q", the search's own %, _ and \ taken literally.
create function public.search_like(p_q text) returns text
  language sql immutable strict parallel safe as $$
  select '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                  p_q, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- The patient's name as search compares it, kept with the row (computed when the name is
-- written, not by every search: folding costs ~8 us a name, 160 ms a search of a clinic of
-- 20,000 patients). Erasure empties the name, and this with it.
alter table public.patients
  add column search_name text generated always as (public.search_fold(display_name)) stored;

-- The digits a search for a phone number means, or null when p_q is not written like one (only
-- digits, a leading plus, spaces, brackets, dots, slashes and dashes): without the leading
-- zeros of a national trunk prefix (07700 900123 is +44 7700 900123) or of an international one
-- (0034 ...), which E.164 does not write.
create function public.search_phone_digits(p_q text) returns text
  language sql immutable strict parallel safe as $$
  select case when p_q operator(pg_catalog.~) '^\s*\+?[0-9\s().\u00a0\u2010-\u2015/-]*$'
              then pg_catalog.ltrim(pg_catalog.regexp_replace(p_q, '[^0-9]', '', 'g'), '0') end
$$;

-- Whether a contact address on p_channel matches the search p_q: it contains the text as typed
-- (case aside; addresses are not folded), or it is a phone number (SMS, WhatsApp) whose digits
-- contain those of a search written like a phone number, of three digits or more (fewer match
-- half the clinic).
create function public.search_address_contains(p_address text, p_channel text, p_q text)
  returns boolean language sql immutable parallel safe as $$
  select p_address operator(pg_catalog.~~*) public.search_like(p_q)
      or (p_channel operator(pg_catalog.=) any (array['sms', 'whatsapp'])
          and pg_catalog.length(public.search_phone_digits(p_q)) >= 3
          and pg_catalog.regexp_replace(p_address, '[^0-9]', '', 'g') operator(pg_catalog.~~)
              ('%' || public.search_phone_digits(p_q) || '%'))
$$;

-- GET /api/v1/patients?q= and POST /api/v1/messages/group: the name fragment found accents and
-- case aside as the dashboard finds it, and a phone number's exact address however it is
-- written: the search's digits (of 7 or more, national trunk zeros aside) are the number's last
-- digits ("612 345 678", "(415) 555-0100", "+44 7700 900123" find +34612345678, +14155550100,
-- +447700900123; "55-0100" does not). Otherwise as patient_matches_search(patients, text, text)
-- (migrations 20260101016860, 20260101018040), which stays for a web process of the release
-- before while it runs. p_pattern is the name fragment's LIKE pattern folded
-- (public.search_fold), p_digits public.search_phone_digits(p_q): the callers
-- (core/sql/clinic_ops.sql list_patients, core/sql/message_groups.sql) compute both once a query,
-- as init plans "(select public.search_fold($n))"; computed here, once a row, they made a search
-- of a clinic of 20,000 patients take twice as long.
create function public.patient_matches_search(
  p_patient public.patients, p_q text, p_pattern text, p_digits text
) returns boolean language sql stable set search_path = public, pg_temp as $$
  select p_q is null
      or p_patient.search_name ilike '%' || p_pattern || '%' escape '\'
      or p_patient.external_id = p_q
      or exists (select 1 from contact_points c
                  where c.patient_id = p_patient.id
                    and (c.address = p_q
                         or c.channel = 'email'
                            and c.address = public.email_address_canonical(p_q)
                         or length(p_digits) >= 7 and c.channel in ('sms', 'whatsapp')
                            and regexp_replace(c.address, '[^0-9]', '', 'g') like '%' || p_digits))
$$;
revoke all on function public.patient_matches_search(public.patients, text, text, text)
  from public, anon;
grant execute on function public.patient_matches_search(public.patients, text, text, text)
  to authenticated, medremind_app;

-- search_fold: every role that writes a patient's name computes patients.search_name with it
-- (clinicians, the service, Supabase's service role); anon writes no patient and calls nothing.
revoke all on function public.search_fold(text) from public, anon;
grant execute on function public.search_fold(text) to authenticated, medremind_app, service_role;
revoke all on function public.search_like(text) from public, anon;
revoke all on function public.search_phone_digits(text) from public, anon;
revoke all on function public.search_address_contains(text, text, text) from public, anon;
grant execute on function public.search_like(text) to authenticated, medremind_app;
grant execute on function public.search_phone_digits(text) to authenticated, medremind_app;
grant execute on function public.search_address_contains(text, text, text)
  to authenticated, medremind_app;
