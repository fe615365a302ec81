-- A clinic's message created while its patient was being erased outlived the erasure, text and
-- all. erase_patient (migration 20260101015410 and before) locks the patient's row and deletes
-- every row that points at them; a POST /api/v1/messages that had read the patient as active a
-- moment before waited for that lock (the cap's, below), then inserted its row after the delete:
-- found against medremind dev, an erased patient kept a message "hi" (cancelled at send time,
-- "patient deleted", but stored). The cap's trigger already locks the row before counting; it
-- now reads the patient's status under that lock, the state after the erasure, and refuses the
-- row (check_violation, scheduled_messages_patient_erased; the API answers 422 on patient_id).

create or replace function public.scheduled_messages_patient_cap() returns trigger
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  refusal record;
  window_words text;
  patient_status text;
begin
  if new.payload ->> 'source' = 'dashboard' and new.resent_from is null then
    new.from_clinic := true;
  end if;
  if not new.from_clinic then
    return new;
  end if;
  -- Serializes clinic messages per patient (and with appointment planning): a concurrent
  -- insert's row is committed, and counted below, before this one counts. The status read under
  -- the lock is the one an erasure that held it left.
  select status into patient_status from patients where id = new.patient_id for no key update;
  if patient_status = 'deleted' then
    perform public.refuse_written_value('scheduled_messages', 'scheduled_messages_patient_erased');
  end if;
  select * into refusal from public.clinic_message_refusal(new.patient_id);
  if found then
    window_words := case refusal.time_window when 'hour' then 'hour' else '24 hours' end;
    raise exception using
      errcode = 'MR429',
      message = format(
        'this patient already has %s messages from your clinic created in the last %s, the most'
        ' one patient may be given (%s per %s: %s); nothing was created. Another can be created'
        ' from %s UTC, or once one of them is cancelled',
        refusal.message_limit, window_words, refusal.message_limit, refusal.time_window,
        refusal.setting, to_char(refusal.retry_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS')),
      detail = json_build_object(
        'window', refusal.time_window, 'limit', refusal.message_limit,
        'setting', refusal.setting, 'retry_at', refusal.retry_at,
        'retry_after', greatest(1, ceil(extract(epoch from refusal.retry_at - now()))))::text;
  end if;
  return new;
end
$$;
