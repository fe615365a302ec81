-- What changed that may stop a send, by transaction (issue 20: the 08:00 burst).
--
-- Rows a worker claims ahead of their time (scheduler/dispatcher.py, "claimed ahead") are checked
-- right before the senders take them: a /pause, STOP, an opt-out, an erasure, a dose answered,
-- its medicine paused or deleted, the appointment cancelled, the contact point or caregiver
-- opted out since the claim stops the send (core/sql/dispatch.sql: hold_at_send). That check read
-- six rows by key for every message, ~20 us of PostgreSQL a message at the peak, to find, nearly
-- always, that nothing had changed in the few seconds since the claim.
--
-- Every write that changes what hold_at_send reads now logs whose it is here, with its
-- transaction id: a patient's row (status, pause and who set it, consent), a dose's status or
-- medicine, a medicine's status, an appointment's status, a category preference, a contact
-- point's usability, all by the patient's id; a caregiver's usability by the caregiver's id; and
-- the deletion of any of them. Before it claims ahead, a worker reads the oldest transaction
-- still running (pg_snapshot_xmin of a snapshot taken before the claim's): every transaction
-- older than that had ended before the claim read its rows, so the claim saw what it wrote. At
-- the handover one statement reads the entries of every transaction from that one on (those that
-- may have written after the claim read, and some that did not: a row checked for nothing costs
-- only its check), and only the sends of those patients and caregivers are checked row by row,
-- as before; the others go as the claim read them. A transaction that has not yet written when
-- the claim reads gets a later id, so it is never older than the watermark.
--
-- The log keeps ids and transaction ids only (no name, no text). Entries an hour old are
-- deleted by the worker's lease reaper (dispatch.sql: prune_hold_changes): a claim held ahead
-- lives seconds, its lease minutes. An erasure logs the patient's id too (it stops their
-- sends); that entry goes with the hour.
create table public.hold_changes (
  xid xid8 not null default pg_current_xact_id(),
  patient_id uuid,
  caregiver_id uuid,
  changed_at timestamptz not null default now(),
  check (num_nonnulls(patient_id, caregiver_id) = 1)
);
comment on table public.hold_changes is
  'Transactions that changed what may stop a send (patient, dose, medicine, appointment, '
  'preference, contact, caregiver), read at the hand-over of rows claimed ahead; an hour kept.';
create index hold_changes_by_xid on public.hold_changes (xid);
-- The reaper's prune by age: entries are appended in time order, a block range's summary is enough.
create index hold_changes_by_time on public.hold_changes using brin (changed_at);

-- Written by the trigger below as its owner (security definer: any role's write logs), read and
-- pruned by the service.
alter table public.hold_changes enable row level security;
grant select, delete on public.hold_changes to medremind_app;
create policy hold_changes_service on public.hold_changes
  for all to medremind_app using (true) with check (true);
grant all on public.hold_changes to service_role;

create function public.log_hold_change() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  if tg_table_name = 'caregivers' then
    insert into public.hold_changes (caregiver_id) values (coalesce(new.id, old.id));
  elsif tg_table_name = 'patients' then
    insert into public.hold_changes (patient_id) values (coalesce(new.id, old.id));
  else
    insert into public.hold_changes (patient_id)
      select distinct p from unnest(array[old.patient_id, new.patient_id]) as p
       where p is not null;
  end if;
  return null;
end
$$;
revoke all on function public.log_hold_change() from public;

-- Row triggers whose WHEN compares only what hold_at_send reads: the writes of every other
-- column (a patient's last message, a contact's last inbound, a dose's nag count) fire nothing.
create trigger patients_hold_change after update on public.patients
  for each row when ((old.status, old.reminders_paused, old.reminders_paused_by,
                      old.consent_at is null)
                     is distinct from (new.status, new.reminders_paused,
                                       new.reminders_paused_by, new.consent_at is null))
  execute function public.log_hold_change();
create trigger patients_hold_change_gone after delete on public.patients
  for each row execute function public.log_hold_change();

create trigger dose_events_hold_change after update on public.dose_events
  for each row when ((old.status, old.medication_id, old.patient_id)
                     is distinct from (new.status, new.medication_id, new.patient_id))
  execute function public.log_hold_change();
create trigger dose_events_hold_change_gone after delete on public.dose_events
  for each row execute function public.log_hold_change();

create trigger medications_hold_change after update on public.medications
  for each row when ((old.status, old.patient_id) is distinct from (new.status, new.patient_id))
  execute function public.log_hold_change();
create trigger medications_hold_change_gone after delete on public.medications
  for each row execute function public.log_hold_change();

create trigger appointments_hold_change after update on public.appointments
  for each row when ((old.status, old.patient_id) is distinct from (new.status, new.patient_id))
  execute function public.log_hold_change();
create trigger appointments_hold_change_gone after delete on public.appointments
  for each row execute function public.log_hold_change();

-- A preference row written for the first time is an opt-out that did not exist at the claim.
create trigger patient_preferences_hold_change_new after insert on public.patient_preferences
  for each row execute function public.log_hold_change();
create trigger patient_preferences_hold_change after update on public.patient_preferences
  for each row when ((old.patient_choice, old.clinic_choice, old.category, old.patient_id)
                     is distinct from (new.patient_choice, new.clinic_choice, new.category,
                                       new.patient_id))
  execute function public.log_hold_change();
create trigger patient_preferences_hold_change_gone after delete on public.patient_preferences
  for each row execute function public.log_hold_change();

create trigger contact_points_hold_change after update on public.contact_points
  for each row when ((old.active, old.opted_out_at is null, old.blocked_at is null,
                      old.patient_id)
                     is distinct from (new.active, new.opted_out_at is null,
                                       new.blocked_at is null, new.patient_id))
  execute function public.log_hold_change();
create trigger contact_points_hold_change_gone after delete on public.contact_points
  for each row execute function public.log_hold_change();

create trigger caregivers_hold_change after update on public.caregivers
  for each row when ((old.active, old.opted_out_at is null, old.blocked_at is null,
                      old.awaiting_link_since is null)
                     is distinct from (new.active, new.opted_out_at is null,
                                       new.blocked_at is null, new.awaiting_link_since is null))
  execute function public.log_hold_change();
create trigger caregivers_hold_change_gone after delete on public.caregivers
  for each row execute function public.log_hold_change();
