"use server";

import { redirect } from "next/navigation";
import { currentClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { type FormState, formValues, sessionEnded } from "@/lib/form-state";
import { changePause } from "@/lib/pause";
import { PAUSE_FIELDS, type PauseBody, parsePauseForm, todayIn } from "@/lib/pause-form";
import { isKnownZone } from "@/lib/time";

/**
 * Pause a patient's reminders (for a number of days, until a day, or until resumed) or resume
 * them, from their page (components/PauseControl.tsx), through the API's own pause
 * (lib/pause.ts). Any clinician of the clinic may, as any API key may. A refusal comes back to
 * the form naming the field, with everything as chosen; a patient not of the clinic (a forged
 * id) or erased since the page loaded is "not found".
 */
export async function changePauseAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData, PAUSE_FIELDS);
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const patientId = String(formData.get("patient_id") ?? "");
  if (!isUuid(patientId)) return { error: "patient_not_found", values };
  let body: PauseBody;
  if (formData.get("paused") === "false") {
    body = { paused: false };
  } else {
    // The end day is the patient's: their today (RLS: null for a patient not of the clinic).
    const [row] = await asClinician(clinician.id, (tx) => tx<{ timezone: string }[]>`
      select timezone from patients where id = ${patientId}::uuid and status <> 'deleted'`);
    if (!row) return { error: "patient_not_found", values };
    const zone = isKnownZone(row.timezone) ? row.timezone : "UTC";
    const parsed = parsePauseForm(values, todayIn(new Date(), zone));
    if (!parsed.ok) return { error: parsed.field, field: parsed.field, values };
    body = parsed.body;
  }
  const result = await changePause(clinician.id, patientId, body);
  if (!result.ok) {
    if (result.problem === "not_found") return { error: "patient_not_found", values };
    if (result.problem === "field" && (PAUSE_FIELDS as readonly string[]).includes(result.field)) {
      return { error: result.field, field: result.field, values };
    }
    return { error: "pause_service", reason: result.reason, values };
  }
  redirect(`/patients/${patientId}?saved=${body.paused ? "paused" : "resumed"}&pause_at=${Date.now()}#pause-h`);
}
