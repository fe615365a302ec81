-- Caregivers' names (caregivers.name) under the rule patients' names have (migration
-- 20260101015500, core/person_names.py): direction controls with a scope removed by a trigger on
-- every write, and a check that the name shows something. The bot held it (the API writes no
-- caregivers); a clinician writing through Supabase (the dashboard's role, PostgREST, which may
-- insert and update caregivers) did not, and a caregiver named only of zero-width spaces greeted
-- nobody ("Hi ." with nothing between) and showed as an empty row.
--
-- Names stored before, decided here so that the check can be valid for every row (not NOT VALID
-- as for patients: a caregiver row is updated by the service itself, a block, an opt-out, a link
-- offered, and a NOT VALID check would refuse those updates of an old row, and the statements
-- with it):
-- - a name with direction controls loses them, as the trigger does from now on, unless the
--   cleaned name is longer than the 50 UTF-16 units a name may have (caregivers_name_template_max,
--   NOT VALID, migration 20260101009110): such a row could not be written at all, and keeps its
--   name until it is written again (it shows: it has letters; the renderer shortens it);
-- - a name that shows nothing, even once cleaned, becomes 'Caregiver': the caregiver keeps
--   their alerts (deactivating them would alert nobody about a missed dose) and the clinic sees
--   a name it can correct.

create or replace function public.caregivers_clean_name() returns trigger
  language plpgsql set search_path = pg_catalog as $$
begin
  new.name := public.person_name_clean(new.name);
  return new;
end
$$;

update public.caregivers c
   set name = x.shown
  from (select id,
               case when public.person_name_visible(public.person_name_clean(name))
                    then public.person_name_clean(name) else 'Caregiver' end as shown
          from public.caregivers) x
 where x.id = c.id and c.name <> x.shown and public.utf16_units(x.shown) <= 50;

create trigger caregivers_clean_name
  before insert or update of name on public.caregivers
  for each row execute function public.caregivers_clean_name();

alter table public.caregivers
  add constraint caregivers_name_visible check (public.person_name_visible(name));
