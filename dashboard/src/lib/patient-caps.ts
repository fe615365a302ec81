/**
 * The clinic's own cap on its messages per patient (docs/api.md "A cap per patient"), as the
 * settings page shows and saves it. Pure: unit-tested without a server.
 *
 * Stored as `organizations.caps` keys `clinic_messages_per_patient_hour` and `_day`: at most that
 * many messages the clinic writes (Compose, the API) per patient in a rolling hour / 24 hours.
 * A clinic may set each to a whole number from 1 to the service's maximum (20 an hour, 50 in 24
 * hours), or leave it blank to follow the service's (MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR /
 * _DAY). Never 0 (no cap) nor more: only the service's operator may lift it. The database holds
 * the same rule for the dashboard's write (migration 20260101018360,
 * public.clinic_message_cap_maximum), and the API (`PATCH /api/v1/clinic`) too.
 */
import maximum from "./patient-cap-maximum.json";

export const PATIENT_CAP_WINDOWS = { hour: "in an hour", day: "in 24 hours" } as const;
export type PatientCapWindow = keyof typeof PATIENT_CAP_WINDOWS;

/**
 * The most a clinic may set its own cap to: patient-cap-maximum.json, held to the database's
 * (public.clinic_message_cap_maximum) and the API's (medremind/web/api_v1/clinic_caps.py
 * MAXIMUM) by tests/web/test_api_patient_message_cap.py.
 */
export const PATIENT_CAP_MAX: Record<PatientCapWindow, number> = maximum;

const WINDOWS = Object.keys(PATIENT_CAP_WINDOWS) as PatientCapWindow[];

/** The form field, and the caps key, of a window. */
export function patientCapField(window: PatientCapWindow): string {
  return `clinic_messages_per_patient_${window}`;
}

/** Every field of the form, which a refusal sends back as typed. */
export const PATIENT_CAP_FIELDS: readonly string[] = WINDOWS.map(patientCapField);

/** The caps keys to set (a number) or remove (null: the service's applies). */
export type PatientCapsChange = Record<string, number | null>;

export type PatientCapsParse = { ok: true; value: PatientCapsChange } | { ok: false; field: string };

/** What a submitted form asks for, or the first field at fault (its code is the field's name). */
export function parsePatientCapsForm(form: FormData): PatientCapsParse {
  const value: PatientCapsChange = {};
  for (const window of WINDOWS) {
    const field = patientCapField(window);
    const raw = form.get(field);
    const text = typeof raw === "string" ? raw.trim() : "";
    if (text === "") {
      value[field] = null;
      continue;
    }
    const number = /^\d{1,6}$/.test(text) ? Number(text) : null;
    if (number === null || number < 1 || number > PATIENT_CAP_MAX[window]) return { ok: false, field };
    value[field] = number;
  }
  return { ok: true, value };
}

/** The message for a refused field (null for a code this section does not make). */
export function patientCapsProblem(code: string | null): string | null {
  if (code === "admin_only") {
    return "Only an admin of your clinic can change its caps. Ask an admin to make the change, or to make you an admin.";
  }
  const window = WINDOWS.find((w) => patientCapField(w) === code);
  if (window === undefined) return null;
  return `Messages per patient ${PATIENT_CAP_WINDOWS[window]}: a whole number from 1 to ${PATIENT_CAP_MAX[window]}, or blank for the service's default. A clinic cannot turn the cap off or set it higher; ask the service's operator.`;
}

/** A window's own stored value as the form shows it ("" when the clinic follows the service's). */
export function ownCap(caps: Record<string, unknown> | null | undefined, window: PatientCapWindow): string {
  const value = caps?.[patientCapField(window)];
  return typeof value === "number" ? String(Math.floor(value)) : "";
}

/** One sentence saying the caps in effect and where each comes from. */
export function patientCapsSummary(
  caps: Record<string, unknown> | null | undefined,
  inEffect: Record<PatientCapWindow, number>,
): string {
  const parts = WINDOWS.map((window) => {
    const limit = inEffect[window];
    const amount = limit === 0 ? "no cap" : `at most ${limit}`;
    return `${amount} ${PATIENT_CAP_WINDOWS[window]} (${ownCap(caps, window) === "" ? "the service's default" : "your clinic's own"})`;
  });
  return `Messages from your clinic to one patient: ${parts.join(" and ")}, counted when they are written, whenever they are due (a message changed later keeps its place). Compose and the API refuse more; a group message leaves such a patient out and names them.`;
}

/** The caps keys a form shows on its own: the page's other caps line leaves them out. */
export function otherCaps(caps: Record<string, unknown>): [string, unknown][] {
  return Object.entries(caps).filter(([key]) => !PATIENT_CAP_FIELDS.includes(key));
}
