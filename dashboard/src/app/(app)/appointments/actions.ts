"use server";

import { VALUE_MAX, tooLongCode } from "@/lib/limits";
import { redirect } from "next/navigation";
import { requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import {
  cancelAppointment,
  createAppointment,
  rescheduleAppointment,
  setAppointmentOutcome,
} from "@/lib/data/appointments";
import { isLocalDateTime } from "@/lib/time";

function back(formData: FormData, error?: string): string {
  const patient = String(formData.get("back_patient") ?? "");
  const params = new URLSearchParams();
  if (isUuid(patient)) params.set("patient", patient);
  if (error) params.set("error", error);
  const query = params.toString();
  return query ? `/appointments?${query}` : "/appointments";
}

/** Create an appointment at a wall-clock time in the clinic's timezone. */
export async function createAppointmentAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const patientId = String(formData.get("patient_id") ?? "");
  const localTime = String(formData.get("starts_at") ?? "");
  const duration = Number(formData.get("duration_minutes") ?? 30);
  const location = String(formData.get("location") ?? "").trim() || null;
  const clinicianName = String(formData.get("clinician_name") ?? "").trim() || null;
  // The place and the clinician's name go into every reminder of the appointment: at most what
  // the template length check assumes, as the API and the database allow (../../lib/limits.ts).
  if (!isUuid(patientId) || !isLocalDateTime(localTime) || !Number.isInteger(duration) || duration < 1 || duration > 1440) {
    redirect(back(formData, "invalid"));
  }
  if ((location?.length ?? 0) > VALUE_MAX.location) redirect(back(formData, tooLongCode("location")));
  if ((clinicianName?.length ?? 0) > VALUE_MAX.clinician_name) redirect(back(formData, tooLongCode("clinician_name")));
  let created = true;
  try {
    await asClinician(clinician.id, (tx) =>
      createAppointment(tx, {
        patientId,
        localTime,
        timezone: clinician.timezone,
        durationMinutes: duration,
        location,
        clinicianName,
        createdBy: clinician.id,
      }),
    );
  } catch {
    created = false;
  }
  redirect(back(formData, created ? undefined : "not_found"));
}

/** Move an appointment to a new time. */
export async function rescheduleAppointmentAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  const localTime = String(formData.get("starts_at") ?? "");
  if (!isUuid(id) || !isLocalDateTime(localTime)) redirect(back(formData, "invalid"));
  const ok = await asClinician(clinician.id, (tx) => rescheduleAppointment(tx, id, localTime, clinician.timezone));
  redirect(back(formData, ok ? undefined : "not_changed"));
}

/** Cancel an appointment (its pending reminders are cancelled too). */
export async function cancelAppointmentAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) redirect(back(formData, "not_found"));
  const ok = await asClinician(clinician.id, (tx) => cancelAppointment(tx, id));
  redirect(back(formData, ok ? undefined : "not_changed"));
}

/** Record that the patient attended (`completed`) or did not come (`no_show`). */
export async function appointmentOutcomeAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  const outcome = String(formData.get("outcome") ?? "");
  if (!isUuid(id) || (outcome !== "completed" && outcome !== "no_show")) redirect(back(formData, "invalid"));
  const ok = await asClinician(clinician.id, (tx) => setAppointmentOutcome(tx, id, outcome as "completed" | "no_show"));
  redirect(back(formData, ok ? undefined : "not_changed"));
}
