-- Rows written for a patient while they were being erased outlived the erasure (every writer
-- but the REST API's messages and bookings, which migration 20260101018810 and
-- patient_consented's lock fixed). erase_patient locks the patient's row, deletes every row
-- that points at them and leaves a tombstone (status 'deleted'); a writer that had read the
-- patient as active waited for that lock (its foreign key's FOR KEY SHARE), then found the
-- tombstone, whose key still matches, and inserted: the planner's doses and reminders, the bot's
-- dialogs, the dashboard's New appointment, Compose and medicine forms, the authenticated role's
-- direct inserts. Every table that points at a patient now reads the patient's status under that
-- same lock before a row is written for them (or moved to them), the state the erasure left, and
-- refuses a deleted patient: check_violation <table>_patient_erased, the name H3's message cap
-- gives (the dashboard's forms and the API say "this patient was erased").
--
-- Two tables are left out, neither holding anything personal: planner_step_failures records
-- that a step failed for a patient, and a failure the erasure itself caused must still be
-- recordable; quiet_window_changes is the planner's queue of quiet windows changed, written by
-- the patients' own trigger, under the row's lock, and by the erasure itself (it clears the quiet
-- hours); the planner empties it. A self-registered patient's row is deleted, not kept: the foreign key refuses
-- those already. New tables pointing at patients get the trigger too: tests/integration/
-- test_erased_patient_rows.py fails for one without it.

-- A row with no patient (a reminder's question on the dispatcher's record, a bot reply to a
-- stranger) calls no function: the WHEN clause is evaluated without entering PL/pgSQL, and the
-- record of an 08:00 burst writes a question per reminder (issue 20).
-- Security definer: the status is read whoever writes (a clinician's role may not lock another
-- clinic's row, nor read a tombstone), and no role may call these outside a trigger. The lock is
-- FOR KEY SHARE, what the foreign key takes anyway, so writers do not serialize; it waits for an
-- erasure's lock, and the status read is then the one the erasure left. Inline, not a shared
-- function: a second call per row cost the planner's bulk inserts a third more (EXPLAIN ANALYZE
-- of 8,000 doses).
create function public.patient_row_not_erased() returns trigger
  language plpgsql security definer set search_path = pg_catalog as $$
-- The patient is patient_id (every such table has one), or the column the trigger names
-- (patient_invites.invitee_patient_id), read through jsonb: plpgsql has no field by name.
declare
  patient uuid := case when tg_nargs = 0 then new.patient_id
                       else (to_jsonb(new) ->> tg_argv[0])::uuid end;
  before uuid;
begin
  if tg_op = 'UPDATE' then
    before := case when tg_nargs = 0 then old.patient_id
                   else (to_jsonb(old) ->> tg_argv[0])::uuid end;
  end if;
  if patient is not null and patient is distinct from before
     and (select p.status from public.patients p where p.id = patient for key share)
         = 'deleted' then
    perform public.refuse_written_value(tg_table_name, tg_table_name || '_patient_erased');
  end if;
  return new;
end
$$;

do $$
declare
  fk record;
begin
  for fk in
    select c.conrelid::regclass as tbl, a.attname as col
      from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     where c.contype = 'f' and c.confrelid = 'public.patients'::regclass
       and cardinality(c.conkey) = 1
       and c.conrelid not in ('public.patients'::regclass, 'public.planner_step_failures'::regclass,
                              'public.quiet_window_changes'::regclass)
  loop
    execute format(
      'create trigger %I before insert or update of %I on %s for each row'
      ' when (new.%I is not null) execute function public.patient_row_not_erased(%s)',
      fk.col || '_not_erased', fk.col, fk.tbl, fk.col,
      case when fk.col = 'patient_id' then '' else quote_literal(fk.col) end);
  end loop;
end
$$;
