-- Erasing a clinic's patient (erase_patient keeps a scrubbed tombstone row, so nothing cascades)
-- also removes what the patient app kept about them: sign-in links, sessions and their device
-- labels, open-app records and live offers. Push subscriptions go with the contact points that
-- erase_patient deletes. A trigger, so erase_patient stays one function with one owner; security
-- definer, because whoever may erase a patient may not otherwise touch these service-only tables.

create function public.forget_patient_app_on_erasure() returns trigger
  language plpgsql security definer set search_path = public, pg_temp as $$
begin
  delete from public.patient_sign_in_links where patient_id = new.id;
  delete from public.patient_web_sessions where patient_id = new.id;
  delete from public.patient_app_connections where patient_id = new.id;
  delete from public.websocket_deliveries where patient_id = new.id;
  return null;
end
$$;
revoke all on function public.forget_patient_app_on_erasure() from public;

create trigger patients_forget_patient_app
  after update of erased_at on patients
  for each row when (new.erased_at is not null and old.erased_at is null)
  execute function public.forget_patient_app_on_erasure();
