import "server-only";
import type { Tx } from "../db";

/** The patient details a clinician edits on the patient's page (PatientDetailsForm). */
export const DETAIL_FIELDS = ["display_name", "locale", "external_id"] as const;
export type DetailField = (typeof DETAIL_FIELDS)[number];
export type Details = Record<DetailField, string>;

/**
 * Write the `changed` details of patient `id` when each still has the value the page showed
 * (`shown`): "written", "changed" (one of them was changed since, by another tab or a colleague:
 * nothing written), or "gone" (erased, another clinic's, or no such patient). The row is locked
 * first, so two saves at once are told apart too. Only the changed columns are written: a save
 * of the name leaves a colleague's new language alone.
 */
export async function saveDetails(
  tx: Tx,
  id: string,
  changed: Partial<Details>,
  shown: Partial<Details>,
): Promise<"written" | "changed" | "gone"> {
  const [now] = await tx<(Details & { status: string })[]>`
    select coalesce(display_name, '') as display_name, locale, coalesce(external_id, '') as external_id, status
      from patients where id = ${id} for update`;
  if (!now || now.status === "deleted") return "gone";
  const fields = Object.keys(changed) as DetailField[];
  if (fields.some((f) => now[f] !== shown[f])) return "changed";
  if (fields.length === 0) return "written";
  const value = (f: DetailField): string | null => (f === "locale" ? changed[f] ?? now[f] : (changed[f] ?? now[f]) || null);
  await tx`
    update patients set display_name = ${value("display_name")}, locale = ${value("locale")},
                        external_id = ${value("external_id")}, updated_at = now()
     where id = ${id}`;
  return "written";
}
