"use server";

import { redirect } from "next/navigation";
import { currentClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { CATEGORIES, lockedPreferences, setClinicPreference, setStandingOffsets } from "@/lib/data/preferences";
import { offsetsInput, parseOffsets } from "@/lib/offsets";
import { type FormState, sessionEnded } from "@/lib/form-state";
import { erasedRefusal } from "@/lib/errors";

const CHANNELS = new Set(["telegram", "whatsapp", "sms", "email"]);

/**
 * The clinic's choices for one patient: per category on / off / no choice and a channel, and the
 * standing appointment reminder offsets. The patient's own choice is not a field here at all, and
 * the database refuses the dashboard's role any write of it (docs/preferences.md).
 */
export async function savePreferencesAction(_previous: FormState, formData: FormData): Promise<FormState> {
  // The form (ActionForm, submitted by hand) keeps every choice; the page asks for the password.
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded();
  const patientId = String(formData.get("patient_id") ?? "");
  if (!isUuid(patientId)) redirect("/patients");
  const offsets = parseOffsets(String(formData.get("offsets") ?? ""));
  // Refused next to the form, which keeps every choice made (a redirect rendered it afresh).
  if (offsets === null) return { error: "offsets", field: "offsets" };
  // What the page showed (absent from a form of the release before: then every field is written).
  const shown = (name: string): string | null => {
    const value = formData.get(`shown_${name}`);
    return typeof value === "string" ? value : null;
  };
  const choices = CATEGORIES.map((category) => {
    const choice = String(formData.get(`choice_${category}`) ?? "");
    const channel = String(formData.get(`channel_${category}`) ?? "");
    return {
      category,
      choice: choice === "in" || choice === "out" ? choice : null,
      channel: CHANNELS.has(channel) ? channel : null,
      shownChoice: shown(`choice_${category}`),
      shownChannel: shown(`channel_${category}`),
    } as const;
  });
  const shownOffsets = shown("offsets");
  const saved = await asClinician(clinician.id, async (tx) => {
    // Not (or no longer) the clinic's patient: erased meanwhile (a tombstone takes no
    // preferences), another clinic's (row-level security hides it: the insert below failed with
    // a 500), or no such id. Their page says which, as it would on a reload.
    const [patient] = await tx<{ status: string }[]>`select status from patients where id = ${patientId}`;
    if (!patient || patient.status === "deleted") return "gone";
    const now = await lockedPreferences(tx, patientId);
    const wanted = offsets === "clinic" ? null : offsets;
    // Only what this form changed is written; a change of a value that is no longer the one the
    // page showed is refused whole (nothing written), naming no colleague.
    const changed = choices.filter((c) => (c.choice ?? "") !== c.shownChoice || (c.channel ?? "") !== c.shownChannel);
    const offsetsChanged = shownOffsets === null || offsetsInput(wanted) !== shownOffsets;
    const stale =
      changed.some((c) => {
        const row = now.rows.find((r) => r.category === c.category);
        return c.shownChoice !== null && ((row?.clinic_choice ?? "") !== c.shownChoice || (row?.channel ?? "") !== c.shownChannel);
      }) ||
      (offsetsChanged && shownOffsets !== null && offsetsInput(now.offsets) !== shownOffsets);
    if (stale) return "changed";
    for (const c of changed) {
      await setClinicPreference(tx, { patientId, category: c.category, choice: c.choice, channel: c.channel, by: clinician.id });
    }
    if (offsetsChanged) await setStandingOffsets(tx, patientId, wanted);
    return "saved";
  }).catch((error: unknown) => {
    // Erased after the status read above: the database refuses their rows (migration
    // 20260101018950); their page says so, as when the read finds them erased.
    if (erasedRefusal(error)) return "gone" as const;
    throw error;
  });
  if (saved === "gone") redirect(`/patients/${patientId}`);
  // Reloaded: the page shows the preferences as they are now, and says why nothing was saved.
  // `at`: the form mounts afresh after each of its own saves (components/FreshUnlessEdited).
  const at = Date.now();
  if (saved === "changed") {
    redirect(`/patients/${patientId}?error=preferences_changed&at=${at}#prefs-h`);
  }
  redirect(`/patients/${patientId}?saved=preferences&at=${at}`);
}
