"use server";

import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { addToWaitlist, removeFromWaitlist } from "@/lib/data/waitlist";
import { isClockTime } from "@/lib/time";

/** Put a patient on the waitlist with the days and hours that suit them. */
export async function addToWaitlistAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const patientId = String(formData.get("patient_id") ?? "");
  const days = formData.getAll("days").map(Number);
  const earliest = String(formData.get("earliest") ?? "") || null;
  const latest = String(formData.get("latest") ?? "") || null;
  const note = String(formData.get("note") ?? "").trim() || null;
  if (
    !isUuid(patientId) ||
    days.some((d) => !Number.isInteger(d) || d < 1 || d > 7) ||
    (earliest !== null && !isClockTime(earliest)) ||
    (latest !== null && !isClockTime(latest)) ||
    (earliest !== null && latest !== null && earliest >= latest) ||
    (note?.length ?? 0) > 200
  ) {
    redirect("/waitlist?error=invalid");
  }
  let added = false;
  try {
    added = await asClinician(clinician.id, (tx) =>
      addToWaitlist(tx, { patientId, days: days.length ? days : null, earliest, latest, note }),
    );
  } catch {
    added = false;
  }
  redirect(added ? "/waitlist" : "/waitlist?error=already_waiting");
}

/** Take a patient off the waitlist. */
export async function removeFromWaitlistAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) redirect("/waitlist?error=not_found");
  const ok = await asClinician(clinician.id, (tx) => removeFromWaitlist(tx, id));
  redirect(ok ? "/waitlist" : "/waitlist?error=not_changed");
}
