/**
 * The new-appointment form's checks (pure: unit-tested without a server). A refusal names the
 * field at fault with an error code of ./errors.ts, so the form marks that field and says how to
 * fix it, whatever a browser or a script sent (the browser's own checks are skipped by a forged
 * submission, which used to get only "something in the form is not valid").
 */
import { VALUE_MAX, tooLongCode } from "./limits";
import { isLocalDateTime, skippedByClockChange } from "./time";

/** The fields of the form (components/AppointmentForm.tsx), which a refusal sends back as typed. */
export const APPOINTMENT_FIELDS = ["patient_id", "starts_at", "duration_minutes", "location", "clinician_name"] as const;
export type AppointmentValues = Record<(typeof APPOINTMENT_FIELDS)[number], string>;

/** The longest appointment the form takes, in minutes (a day). */
export const DURATION_MAX_MINUTES = 1440;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NewAppointmentInput {
  patientId: string;
  localTime: string;
  durationMinutes: number;
  location: string | null;
  clinicianName: string | null;
}

export type AppointmentCheck = { ok: true; value: NewAppointmentInput } | { ok: false; error: string; field: string };

/**
 * The appointment a submitted form asks for, or the first field at fault and its error code.
 * `timeZone`: the clinic's, in which the start is written (a time the clocks skip is refused).
 */
export function checkNewAppointment(values: AppointmentValues, timeZone = "UTC"): AppointmentCheck {
  const refuse = (error: string, field: string): AppointmentCheck => ({ ok: false, error, field });
  const patientId = values.patient_id.trim();
  const localTime = values.starts_at.trim();
  const duration = values.duration_minutes.trim();
  const location = values.location.trim() || null;
  const clinicianName = values.clinician_name.trim() || null;
  if (!UUID.test(patientId)) return refuse("patient_required", "patient_id");
  if (!isLocalDateTime(localTime)) return refuse("appointment_time", "starts_at");
  if (skippedByClockChange(localTime, timeZone)) return refuse("appointment_time_skipped", "starts_at");
  const minutes = /^\d{1,4}$/.test(duration) ? Number(duration) : NaN;
  if (!(minutes >= 1 && minutes <= DURATION_MAX_MINUTES)) return refuse("appointment_duration", "duration_minutes");
  // The place and the clinician's name go into every reminder of the appointment: at most what
  // the template length check assumes, as the API and the database allow (./limits.ts).
  if ((location?.length ?? 0) > VALUE_MAX.location) return refuse(tooLongCode("location"), "location");
  if ((clinicianName?.length ?? 0) > VALUE_MAX.clinician_name) return refuse(tooLongCode("clinician_name"), "clinician_name");
  return { ok: true, value: { patientId, localTime, durationMinutes: minutes, location, clinicianName } };
}
