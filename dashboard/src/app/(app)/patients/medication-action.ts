"use server";

import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { setTimeCritical } from "@/lib/data/patients";

/**
 * Mark one of the patient's medications time-critical (insulin, anticonvulsants, Parkinson's
 * medication: its reminders go first at their minute and never leave early) or routine again.
 * Any clinician of the clinic may (as through the API with any key); RLS keeps it to the clinic.
 */
export async function setTimeCriticalAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const patientId = String(formData.get("patient_id") ?? "");
  const medicationId = String(formData.get("medication_id") ?? "");
  if (!isUuid(patientId)) redirect("/patients");
  const critical = formData.get("time_critical");
  if (!isUuid(medicationId) || (critical !== "true" && critical !== "false")) {
    redirect(`/patients/${patientId}?error=invalid#meds-h`);
  }
  const row = await asClinician(clinician.id, (tx) => setTimeCritical(tx, patientId, medicationId, critical === "true"));
  if (!row) redirect(`/patients/${patientId}?error=medication_not_found#meds-h`);
  redirect(`/patients/${patientId}?saved=${row.time_critical ? "time_critical" : "routine"}#meds-h`);
}
