-- A caregiver's own timezone, so quiet hours keep a missed-dose alert from waking a caregiver who
-- lives elsewhere (a daughter in Madrid caring for a father in Mexico City). Null means "same as
-- the patient": the dispatcher then uses the patient's timezone, as it did before this column.
--
-- The zone must be a name Postgres knows from the IANA database (pg_timezone_names), matched
-- exactly: that is what Python's zoneinfo, which the dispatcher uses, accepts too. "at time zone"
-- alone would let through POSIX strings ('UTC+3') and wrong case ('europe/madrid') that zoneinfo
-- rejects. Reading pg_timezone_names costs ~15 ms (it lists the zone files), paid only on a write
-- of a caregiver row with a zone; the claim path never evaluates it.
--
-- patients.timezone has no such check in the schema (the bot's parser and the API validate it);
-- is_iana_timezone() is written to serve it too, once its existing rows are known to be clean.

create function public.is_iana_timezone(zone text) returns boolean
language sql stable strict parallel safe
set search_path = pg_catalog, pg_temp as $$
  select exists (select 1 from pg_timezone_names t where t.name = zone)
$$;
comment on function public.is_iana_timezone(text) is
  'Whether zone is an IANA timezone name known to this server (exact case), e.g. Europe/Madrid.';

alter table caregivers add column timezone text;
alter table caregivers add constraint caregivers_timezone_iana
  check (timezone is null or public.is_iana_timezone(timezone));
comment on column caregivers.timezone is
  'IANA timezone of the caregiver for quiet hours; null: the patient''s timezone.';

-- RLS on caregivers is untouched (still enabled, same policies): a new column inherits them.

-- Not for anon (on Supabase, PostgREST's /rpc would let anyone make the server list its zone files
-- at ~15 ms a call); whoever writes caregivers may check a zone.
revoke all on function public.is_iana_timezone(text) from public;
grant execute on function public.is_iana_timezone(text)
  to authenticated, medremind_app, service_role;
