"use server";

import { redirect } from "next/navigation";
import { currentClinician, requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { type AddOutcome, addToWaitlist, removeFromWaitlist } from "@/lib/data/waitlist";
import { erasedRefusal, sqlState } from "@/lib/errors";
import { waitlistHoursProblem } from "@/lib/waitlist-hours";
import { visible } from "@/lib/data/visible";
import { unclosedDirectionControl } from "@/lib/direction-controls";
import { type FormState, formValues, sessionEnded } from "@/lib/form-state";

/** The fields of the waitlist form (components/WaitlistForm.tsx); the days are read apart. */
const WAITLIST_FIELDS = ["patient_id", "earliest", "latest", "note"] as const;
const NOTE_MAX = 200;
// C0 controls but tab and line feed, and DEL: what a one-line note has no use for.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const OUTCOME_ERRORS: Record<Exclude<AddOutcome, "added">, string> = {
  not_found: "patient_not_found",
  not_consented: "waitlist_not_consented",
  already_waiting: "already_waiting",
};

/**
 * Put a patient on the waitlist with the days and hours that suit them. A refusal comes back to
 * the form naming the field, with everything as chosen (the days as a comma-separated list).
 */
export async function addToWaitlistAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const typed = formValues(formData, WAITLIST_FIELDS);
  const rawDays = formData.getAll("days").map((d) => (typeof d === "string" ? d.slice(0, 2) : "")).slice(0, 7);
  const values = { ...typed, days: rawDays.join(",") };
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const refuse = (error: string, field: string): FormState => ({ error, field, values });
  const patientId = typed.patient_id;
  const days = rawDays.map(Number);
  const earliest = typed.earliest || null;
  const latest = typed.latest || null;
  const note = typed.note.trim() || null;
  if (!isUuid(patientId)) return refuse("patient_required", "patient_id");
  if (days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) return refuse("invalid", "days");
  // Until before From is overnight (until then the next day); the same time for both is refused.
  const hoursProblem = waitlistHoursProblem(earliest, latest);
  if (hoursProblem !== null) return refuse("waitlist_hours", hoursProblem);
  if ((note?.length ?? 0) > NOTE_MAX) return refuse("too_long_note", "note");
  // PostgreSQL's text holds no NUL (and the others are pasted by mistake); the API refuses it too.
  if (note !== null && CONTROL.test(note)) return refuse("note_control", "note");
  if (note !== null && unclosedDirectionControl(note) !== null) return refuse("direction_note", "note");
  let outcome: AddOutcome;
  try {
    outcome = await asClinician(clinician.id, (tx) =>
      addToWaitlist(tx, { patientId, days: days.length ? days : null, earliest, latest, note }),
    );
  } catch (error) {
    // Erased after the form was shown (migration 20260101018950): nothing was added.
    if (erasedRefusal(error)) return refuse("patient_erased_meanwhile", "patient_id");
    // Not "already on the waitlist" (what every error used to read as): said as it is, the
    // form kept; the log has the SQLSTATE only (never the note or the patient).
    console.error(`waitlist: adding an entry failed (SQLSTATE ${sqlState(error) ?? "none"})`);
    return refuse("waitlist_not_saved", "patient_id");
  }
  if (outcome !== "added") return refuse(OUTCOME_ERRORS[outcome], "patient_id");
  redirect("/waitlist");
}

/**
 * Take a patient off the waitlist. Nothing removed: the entry is closed already ("not_changed"),
 * or the clinician cannot see it (another clinic's id in a forged form): "not found", which does
 * not tell them it exists.
 */
export async function removeFromWaitlistAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) redirect("/waitlist?error=waitlist_entry_not_found");
  const refusal = await asClinician(clinician.id, async (tx) => {
    if (await removeFromWaitlist(tx, id)) return null;
    return (await visible(tx, "waitlist", id)) ? "waitlist_closed" : "waitlist_entry_not_found";
  });
  redirect(refusal === null ? "/waitlist" : `/waitlist?error=${refusal}`);
}
