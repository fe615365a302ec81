/**
 * How the dashboard names a patient in lists and pickers. Pure: used by server pages and client
 * components alike.
 *
 * A patient without a name (registered by the API or the bot without one) is "Unnamed patient"
 * everywhere; where several may stand side by side (Compose's patient list, a group's skipped
 * patients) a hint tells them apart without showing a contact address in full: the clinic's
 * external id, else the channel and last digits of their first contact point (masked in SQL,
 * lib/data/patients.ts CONTACT_HINT, so the full address never reaches the browser), else the
 * start of the record's id.
 */

export const UNNAMED_PATIENT = "Unnamed patient";

export interface LabelFields {
  id: string;
  display_name: string | null;
  external_id?: string | null;
  /** Masked contact, for example "SMS …0199" (lib/data/patients.ts CONTACT_HINT). */
  contact_hint?: string | null;
}

/** The patient's name, or "Unnamed patient" with what tells this one apart. */
export function patientLabel(patient: LabelFields): string {
  const name = patient.display_name?.trim();
  if (name) return name;
  const hint = patient.external_id
    ? `external id ${patient.external_id}`
    : (patient.contact_hint ?? `#${patient.id.slice(0, 8)}`);
  return `${UNNAMED_PATIENT} (${hint})`;
}
