-- Names and the texts filled into messages are stored composed (Unicode NFC), whoever writes
-- them: "Renée" is one way of writing the name, not two.
--
-- A name typed or sent decomposed (NFD: "e" and a combining acute accent, as macOS and some
-- EHR exports give it) was stored as sent. The clinic's search (GET /api/v1/patients?q=Renée,
-- the dashboard's) compares code points, so a patient created as "Rene\u0301e" was not found
-- by "Renée" typed on a keyboard, nor the other way round; and the combining accent is not in
-- SMS's GSM-7 alphabet, so every SMS that named them went as UCS-2: a one-segment reminder was
-- three segments, three times the price (found by hand over the API). public.person_name_clean
-- (20260101015500), which every writer of these columns meets through the triggers of
-- 20260101015500, 20260101015760 and 20260101015900, now also composes; core/person_names.py
-- without_direction_scopes does the same for the bot and the API (tests/integration/
-- test_person_names.py holds the two to one answer for every code point). NFC changes how a
-- text is stored, not what it says or how it shows.

create or replace function public.person_name_clean(p_name text) returns text
  language sql immutable strict parallel safe set search_path = pg_catalog as $$
  select normalize(regexp_replace(p_name, '[\u202A-\u202E\u2066-\u2069]', '', 'g'), nfc)
$$;

-- Rows stored before are composed in place. One at a time: a value stored before its limit
-- (20260101015800) that is still over it once composed is refused by its trigger, and is left
-- as it is (the renderer shortens it) rather than stopping the migration.
do $$
declare
  target record;
  row_id uuid;
begin
  for target in
    select * from (values
      ('patients', 'display_name'), ('caregivers', 'name'), ('medications', 'name'),
      ('medications', 'dose'), ('appointments', 'location'),
      ('appointments', 'clinician_name'), ('slot_offers', 'location'),
      ('slot_offers', 'clinician_name'), ('organizations', 'name')
    ) t (table_name, column_name)
  loop
    for row_id in execute format(
      'select id from public.%I where %I is not nfc normalized', target.table_name,
      target.column_name)
    loop
      begin
        execute format('update public.%I set %I = public.person_name_clean(%I) where id = $1',
                       target.table_name, target.column_name, target.column_name)
          using row_id;
      exception when check_violation then
        null;
      end;
    end loop;
  end loop;
end
$$;
