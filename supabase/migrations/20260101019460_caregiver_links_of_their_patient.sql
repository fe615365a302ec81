-- A caregiver link names a caregiver of its own patient only.
--
-- caregiver_links.caregiver_id (the caregivers row an opened link made, migration 20260101014100)
-- referenced caregivers (id) alone, so a link row of one patient could name another patient's
-- caregiver, of another clinic. The row is read as proof: migration 20260101014300 took "a used
-- link names this caregiver" as "their own chat opened the patient's link", so such a row would
-- vouch for a Telegram caregiver whose chat never opened a link of their patient, and their
-- missed-dose alerts, naming the patient, would go to a chat nobody checked. The service writes
-- the pair right (bot.sql use_caregiver_link names the row relink_caregiver or upsert_caregiver
-- just made for the link's patient), but nothing held it for every writer; and a link of an
-- erased patient was refused already (caregiver_links_patient_erased, migration 20260101018950).
--
-- Now (caregiver_id, patient_id) references caregivers (id, patient_id): refused with SQLSTATE
-- 23503, constraint caregiver_links_caregiver_of_patient. Deferred to the end of the transaction:
-- a merge (merge_patient_rows) moves a self-registered record's links and caregivers to the
-- clinic's record one table after the other, and the pair agrees again once both moved. A
-- caregiver deleted (an erasure, a merge's clean-up) still leaves the link, without a caregiver.
-- A row that breaks the rule loses its caregiver: it proves nothing.

update public.caregiver_links l
   set caregiver_id = null
 where l.caregiver_id is not null
   and not exists (select from public.caregivers c
                    where c.id = l.caregiver_id and c.patient_id = l.patient_id);

alter table public.caregivers add constraint caregivers_id_patient_key unique (id, patient_id);
alter table public.caregiver_links drop constraint caregiver_links_caregiver_id_fkey;
alter table public.caregiver_links add constraint caregiver_links_caregiver_of_patient
  foreign key (caregiver_id, patient_id) references public.caregivers (id, patient_id)
  on delete set null (caregiver_id) deferrable initially deferred;
