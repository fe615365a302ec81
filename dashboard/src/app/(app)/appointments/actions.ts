"use server";

import { redirect } from "next/navigation";
import { currentClinician, requireClinician } from "@/lib/auth";
import { asClinician, isUuid } from "@/lib/db";
import { APPOINTMENT_FIELDS, checkNewAppointment } from "@/lib/appointment-form";
import { type FormState, formValues, sessionEnded } from "@/lib/form-state";
import { controlCode, controlField } from "@/lib/control-characters";
import {
  PatientNotConsented,
  PatientNotFound,
  SameTimeAppointment,
  cancelAppointment,
  createAppointment,
  rescheduleAppointment,
  setAppointmentOutcome,
} from "@/lib/data/appointments";
import { wallTimePast } from "@/lib/data/wall-time";
import { visible } from "@/lib/data/visible";
import { isLocalDateTime, skippedByClockChange } from "@/lib/time";
import { erasedRefusal, oneLineRefusal } from "@/lib/errors";

/**
 * The appointments page again (the patient's, when the form came from there), with an error or
 * the appointment just created, which the page confirms once (components/CreatedNotice.tsx), and
 * the appointment an error names, which the page outlines.
 */
function back(formData: FormData, error?: string, created?: string, existing?: string): string {
  const patient = String(formData.get("back_patient") ?? "");
  const params = new URLSearchParams();
  if (isUuid(patient)) params.set("patient", patient);
  if (error) params.set("error", error);
  if (created) params.set("created", created);
  // The appointment a refusal names: the page outlines it.
  if (existing) params.set("existing", existing);
  const query = params.toString();
  return query ? `/appointments?${query}` : "/appointments";
}

/**
 * Create an appointment at a wall-clock time in the clinic's timezone. A refusal comes back to
 * the form naming the field and how to fix it, with everything as typed; nothing is saved.
 */
export async function createAppointmentAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData, APPOINTMENT_FIELDS);
  const clinician = await currentClinician();
  if (!clinician) return sessionEnded(values);
  const control = controlField(formData, APPOINTMENT_FIELDS);
  if (control !== null) return { error: controlCode(control), field: control, values };
  const checked = checkNewAppointment(values, clinician.timezone);
  if (!checked.ok) return { error: checked.error, field: checked.field, values };
  let id: string | null;
  try {
    id = await asClinician(clinician.id, async (tx) =>
      // The API refuses a start in the past (422); the planner would confirm a visit gone by.
      (await wallTimePast(tx, checked.value.localTime, clinician.timezone))
        ? null
        : createAppointment(tx, { ...checked.value, timezone: clinician.timezone, createdBy: clinician.id }),
    );
  } catch (error) {
    // Row-level security hides another clinic's patient: to this clinic it does not exist.
    if (error instanceof PatientNotFound) return { error: "patient_not_found", field: "patient_id", values };
    if (error instanceof PatientNotConsented) return { error: "appointment_not_consented", field: "patient_id", values };
    // The API's 409: the patient has a live appointment then already (named: the form links it).
    if (error instanceof SameTimeAppointment) return { error: "appointment_same_time", field: "starts_at", values, existing: error.existing };
    // Erased after the patient was read as active (migration 20260101018950): nothing was booked.
    if (erasedRefusal(error)) return { error: "patient_erased_meanwhile", field: "patient_id", values };
    // A line break in the place or clinician (migration 20260101019020), if one got past controlField.
    const broken = oneLineRefusal(error);
    if (broken !== null) return { error: broken, field: broken.slice("control_".length), values };
    throw error;
  }
  if (id === null) return { error: "appointment_time_past", field: "starts_at", values };
  redirect(back(formData, undefined, id));
}

/** Move an appointment to a new time. */
export async function rescheduleAppointmentAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  const localTime = String(formData.get("starts_at") ?? "");
  if (!isUuid(id)) redirect(back(formData, "appointment_not_found"));
  if (!isLocalDateTime(localTime)) redirect(back(formData, "reschedule_time"));
  if (skippedByClockChange(localTime, clinician.timezone)) redirect(back(formData, "reschedule_time_skipped"));
  const moved = await asClinician(clinician.id, async (tx) =>
    (await wallTimePast(tx, localTime, clinician.timezone)) ? "past" : rescheduleAppointment(tx, id, localTime, clinician.timezone),
  );
  if (moved === "past") redirect(back(formData, "reschedule_time_past"));
  if (moved instanceof SameTimeAppointment) redirect(back(formData, "reschedule_same_time", undefined, moved.existing));
  redirect(back(formData, moved ? undefined : await refusal(clinician.id, id)));
}

/** Cancel an appointment (its pending reminders are cancelled too). */
export async function cancelAppointmentAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  if (!isUuid(id)) redirect(back(formData, "appointment_not_found"));
  const ok = await asClinician(clinician.id, (tx) => cancelAppointment(tx, id));
  redirect(back(formData, ok ? undefined : await refusal(clinician.id, id)));
}

/** Record that the patient attended (`completed`) or did not come (`no_show`). */
export async function appointmentOutcomeAction(formData: FormData): Promise<void> {
  const clinician = await requireClinician();
  const id = String(formData.get("id") ?? "");
  const outcome = String(formData.get("outcome") ?? "");
  if (!isUuid(id)) redirect(back(formData, "appointment_not_found"));
  if (outcome !== "completed" && outcome !== "no_show") redirect(back(formData, "outcome"));
  const ok = await asClinician(clinician.id, (tx) => setAppointmentOutcome(tx, id, outcome as "completed" | "no_show"));
  redirect(back(formData, ok ? undefined : await refusal(clinician.id, id)));
}

/**
 * Why a change of appointment `id` changed nothing: it is closed ("not_changed"), or the
 * clinician cannot see it (another clinic's id in a forged form): "not found", which does not
 * tell them it exists.
 */
async function refusal(clinicianId: string, id: string): Promise<string> {
  return (await asClinician(clinicianId, (tx) => visible(tx, "appointment", id))) ? "not_changed" : "appointment_not_found";
}
