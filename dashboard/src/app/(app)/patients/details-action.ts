"use server";

import { redirect } from "next/navigation";
import { currentClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { DETAIL_FIELDS, type DetailField, type Details, saveDetails } from "@/lib/data/patient-details";
import { unclosedDirectionControl } from "@/lib/direction-controls";
import { controlCode, controlField } from "@/lib/control-characters";
import { externalIdRefusal, nameRefusal, oneLineRefusal, sqlState } from "@/lib/errors";
import { type FormState, formValues, sessionEnded } from "@/lib/form-state";
import { VALUE_MAX, tooLongCode } from "@/lib/limits";

const EXTERNAL_ID_MAX = 100;

/**
 * A patient's name, language and external id, from their page (components/PatientDetailsForm).
 * Only what the clinician changed is written, and a change of a value changed since the page
 * showed it (another tab, a colleague, the API) is refused whole, the page reloaded with the
 * details as they are: writing every field shown put a colleague's change back without a word.
 * A refusal of a value comes back to the form, naming the field, with everything as typed.
 */
export async function savePatientDetailsAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const patientId = String(formData.get("patient_id") ?? "");
  // The form (ActionForm, submitted by hand) keeps what was typed; the page asks for the password.
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded();
  if (!isUuid(patientId)) redirect("/patients");
  const control = controlField(formData, DETAIL_FIELDS);
  if (control !== null) return { error: controlCode(control), field: control };
  const typed = formValues(formData, DETAIL_FIELDS);
  const wanted: Details = {
    display_name: typed.display_name.trim(),
    locale: typed.locale === "es" ? "es" : "en",
    external_id: typed.external_id.trim(),
  };
  const shownValues = formValues(formData, DETAIL_FIELDS.map((f) => `shown_${f}` as const));
  const shown = (f: DetailField): string => shownValues[`shown_${f}`];
  const changed: Partial<Details> = {};
  for (const f of DETAIL_FIELDS) if (wanted[f] !== shown(f)) changed[f] = wanted[f];
  if (changed.display_name !== undefined) {
    if (!wanted.display_name) return { error: "name_required", field: "display_name" };
    if (wanted.display_name.length > VALUE_MAX.patient_name) return { error: tooLongCode("patient_name"), field: "display_name" };
  }
  if (changed.external_id !== undefined) {
    if (wanted.external_id.length > EXTERNAL_ID_MAX) return { error: "too_long_external_id", field: "external_id" };
    if (unclosedDirectionControl(wanted.external_id) !== null) return { error: "direction_external_id", field: "external_id" };
  }
  let saved: Awaited<ReturnType<typeof saveDetails>>;
  try {
    saved = await asClinician(clinician.id, (tx) => saveDetails(tx, patientId, changed, Object.fromEntries(DETAIL_FIELDS.map((f) => [f, shown(f)]))));
  } catch (error) {
    if (sqlState(error) === "23505") return { error: "duplicate", field: "external_id" };
    const invisibleId = externalIdRefusal(error);
    if (invisibleId) return { error: invisibleId, field: "external_id" };
    const invisible = nameRefusal(error);
    if (invisible) return { error: invisible, field: "display_name" };
    // A control character in the name (migration 20260101019030), if one got past controlField.
    const broken = oneLineRefusal(error);
    if (broken !== null) return { error: broken, field: "display_name" };
    throw error;
  }
  if (saved === "gone") redirect(`/patients/${patientId}`);
  // `details_at`: this form mounts afresh after each of its own saves (components/FreshUnlessEdited),
  // not after the preferences' (their `at`), which would drop details being edited.
  const at = Date.now();
  if (saved === "changed") redirect(`/patients/${patientId}?error=details_changed&details_at=${at}#details-h`);
  redirect(`/patients/${patientId}?saved=details&details_at=${at}`);
}
