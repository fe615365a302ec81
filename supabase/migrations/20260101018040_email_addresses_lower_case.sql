-- An e-mail address is one mailbox however its letters are cased: stored in lower case.
--
-- contact_points held (channel, address) unique by the exact text, and every writer stored an
-- e-mail as typed: Ana.Lopez@Example.COM at one clinic and ana.lopez@example.com at another were
-- two contact points of two records for one mailbox, neither held elsewhere (the one-person-one-
-- record rule of migration 20260101008100 did not hold), and GET /api/v1/patients?q= with the
-- address cased otherwise found nobody. A domain is never case-sensitive, and mail providers
-- treat the local part alike (RFC 5321 discourages using its case), as Supabase Auth does for
-- sign-in e-mails. Every writer (the API, the dashboard, the bot, a clinician through PostgREST)
-- meets these triggers; the API and the dashboard lower it too, so what they compare a typed
-- address with is what is stored. tests/web/test_api_email_address_case.py.

create function public.email_address_canonical(p_address text) returns text
  language sql immutable parallel safe set search_path = public, pg_temp as $$
  select lower(btrim(p_address))
$$;
revoke all on function public.email_address_canonical(text) from public, anon;
grant execute on function public.email_address_canonical(text) to authenticated, medremind_app;

create function public.lower_email_address() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
-- BEFORE a contact point's or a caregiver's e-mail address is written: its canonical form.
begin
  new.address := public.email_address_canonical(new.address);
  return new;
end
$$;
revoke all on function public.lower_email_address() from public;

create function public.lower_claimed_email_address() returns trigger
  language plpgsql set search_path = public, pg_temp as $$
-- BEFORE an invitation for an e-mail address is written: the address as contact_points has it.
begin
  new.claimed_address := public.email_address_canonical(new.claimed_address);
  return new;
end
$$;
revoke all on function public.lower_claimed_email_address() from public;

-- Named to fire before the other BEFORE triggers of these tables (alphabetical order), so they
-- see the address as stored.
create trigger contact_points_address_email_lower
  before insert or update of channel, address on contact_points
  for each row when (new.channel = 'email')
  execute function public.lower_email_address();

create trigger caregivers_address_email_lower
  before insert or update of channel, address on caregivers
  for each row when (new.channel = 'email')
  execute function public.lower_email_address();

create trigger patient_invites_claimed_email_lower
  before insert or update of claimed_channel, claimed_address on patient_invites
  for each row when (new.claimed_channel = 'email')
  execute function public.lower_claimed_email_address();

-- The addresses already stored. Where two records hold one mailbox in different cases, the
-- oldest takes the lowered address and the others keep theirs as they are (which record is the
-- person's is for the clinics to say; their next edit of that address lowers it or is refused
-- as held elsewhere).
with lowered as (
  select id, public.email_address_canonical(address) as canonical,
         row_number() over (partition by public.email_address_canonical(address)
                            order by created_at, id) as nth
    from contact_points
   where channel = 'email' and address <> public.email_address_canonical(address)
)
update contact_points c
   set address = l.canonical
  from lowered l
 where c.id = l.id and l.nth = 1
   and not exists (select from contact_points o
                    where o.channel = 'email' and o.address = l.canonical);

update caregivers set address = public.email_address_canonical(address)
 where channel = 'email' and address <> public.email_address_canonical(address);

update patient_invites set claimed_address = public.email_address_canonical(claimed_address)
 where claimed_channel = 'email'
   and claimed_address <> public.email_address_canonical(claimed_address);

-- A search by address finds an e-mail in any case (migration 20260101016860 otherwise).
create or replace function public.patient_matches_search(
  p_patient public.patients, p_q text, p_pattern text
) returns boolean language sql stable set search_path = public, pg_temp as $$
  select p_q is null
      or p_patient.display_name ilike '%' || p_pattern || '%' escape '\'
      or p_patient.external_id = p_q
      or exists (select 1 from contact_points c
                  where c.patient_id = p_patient.id
                    and (c.address = p_q
                         or c.channel = 'email'
                            and c.address = public.email_address_canonical(p_q)))
$$;
