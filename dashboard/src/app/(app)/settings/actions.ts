"use server";

import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { canonicalTimezone, isClockTime } from "@/lib/time";


/** Save the organization's defaults (name, timezone, reminder offsets, quiet hours). */
export async function saveSettingsAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const name = String(formData.get("name") ?? "").trim();
  // The zone as the planner will load it (see canonicalTimezone), not as typed.
  const timezone = canonicalTimezone(String(formData.get("timezone") ?? ""));
  const offsets = String(formData.get("offsets") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const quietStart = String(formData.get("quiet_start") ?? "");
  const quietEnd = String(formData.get("quiet_end") ?? "");
  if (
    !name ||
    name.length > 200 ||
    timezone === null ||
    offsets.length > 10 ||
    offsets.some((n) => !Number.isInteger(n) || n < 0 || n > 60 * 24 * 30) ||
    !isClockTime(quietStart) ||
    !isClockTime(quietEnd)
  ) {
    redirect("/settings?error=invalid");
  }
  await asClinician(clinician.id, (tx) => tx`
    update organizations
       set name = ${name}, timezone = ${timezone},
           appointment_reminder_offsets = ${offsets.join(",") ? `{${offsets.join(",")}}` : "{}"}::integer[],
           default_quiet_start = ${quietStart}::time, default_quiet_end = ${quietEnd}::time
     where id = public.current_organization_id()`);
  redirect("/settings?saved=1");
}
