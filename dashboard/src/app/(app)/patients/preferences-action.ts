"use server";

import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { CATEGORIES, setClinicPreference, setStandingOffsets } from "@/lib/data/preferences";
import { parseOffsets } from "@/lib/offsets";
import type { FormState } from "@/lib/form-state";

const CHANNELS = new Set(["telegram", "whatsapp", "sms", "email"]);

/**
 * The clinic's choices for one patient: per category on / off / no choice and a channel, and the
 * standing appointment reminder offsets. The patient's own choice is not a field here at all, and
 * the database refuses the dashboard's role any write of it (docs/preferences.md).
 */
export async function savePreferencesAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const clinician = await requireClinician();
  const patientId = String(formData.get("patient_id") ?? "");
  if (!isUuid(patientId)) redirect("/patients");
  const offsets = parseOffsets(String(formData.get("offsets") ?? ""));
  // Refused next to the form, which keeps every choice made (a redirect rendered it afresh).
  if (offsets === null) return { error: "offsets", field: "offsets" };
  const choices = CATEGORIES.map((category) => {
    const choice = String(formData.get(`choice_${category}`) ?? "");
    const channel = String(formData.get(`channel_${category}`) ?? "");
    return {
      category,
      choice: choice === "in" || choice === "out" ? choice : null,
      channel: CHANNELS.has(channel) ? channel : null,
    } as const;
  });
  const saved = await asClinician(clinician.id, async (tx) => {
    // Not (or no longer) the clinic's patient: erased meanwhile (a tombstone takes no
    // preferences), another clinic's (row-level security hides it: the insert below failed with
    // a 500), or no such id. Their page says which, as it would on a reload.
    const [patient] = await tx<{ status: string }[]>`select status from patients where id = ${patientId}`;
    if (!patient || patient.status === "deleted") return false;
    for (const c of choices) {
      await setClinicPreference(tx, { patientId, ...c, by: clinician.id });
    }
    await setStandingOffsets(tx, patientId, offsets === "clinic" ? null : offsets);
    return true;
  });
  if (!saved) redirect(`/patients/${patientId}`);
  redirect(`/patients/${patientId}?saved=preferences`);
}
