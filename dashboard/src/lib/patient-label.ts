/**
 * How the dashboard names a patient in lists and pickers. Pure: used by server pages and client
 * components alike.
 *
 * A patient without a name (registered by the API or the bot without one) is "Unnamed patient"
 * everywhere; where several may stand side by side (Compose's patient list, a group's skipped
 * patients) a hint tells them apart without showing a contact address in full: the clinic's
 * external id, else the channel and last digits of their first contact point (masked in SQL,
 * lib/data/patients.ts CONTACT_HINT, so the full address never reaches the browser), else the
 * start of the record's id. Named patients who share a name in one list (two "Maria Garcia", or
 * one registered twice) get the same hint (`distinctLabels`): a picker that showed "Tavita" three
 * times let a clinician send one patient's message to another.
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
  return `${UNNAMED_PATIENT} (${hint(patient)})`;
}

function hint(patient: LabelFields): string {
  return patient.external_id
    ? `external id ${patient.external_id}`
    : (patient.contact_hint ?? `#${patient.id.slice(0, 8)}`);
}

/**
 * Each patient's label (by id) in a list shown together, such as a picker's options: a name two
 * or more of them share (letter case and spacing aside) is followed by the hint, and where the
 * hints are the same too (one number for a family), by the start of the record's id as well.
 */
export function distinctLabels(patients: LabelFields[]): Map<string, string> {
  const labels = new Map(patients.map((p) => [p.id, patientLabel(p)]));
  const shared = (label: (p: LabelFields) => string): Set<string> => {
    const seen = new Map<string, number>();
    for (const p of patients) seen.set(label(p), (seen.get(label(p)) ?? 0) + 1);
    return new Set([...seen].filter(([, n]) => n > 1).map(([key]) => key));
  };
  const key = (p: LabelFields) => (labels.get(p.id) ?? "").toLocaleLowerCase().replace(/\s+/g, " ");
  const homonyms = shared(key);
  for (const p of patients) {
    if (homonyms.has(key(p))) labels.set(p.id, `${labels.get(p.id)} (${hint(p)})`);
  }
  const still = shared(key);
  for (const p of patients) {
    if (still.has(key(p))) labels.set(p.id, `${labels.get(p.id)} #${p.id.slice(0, 8)}`);
  }
  return labels;
}
