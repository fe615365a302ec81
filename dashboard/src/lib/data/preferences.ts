import "server-only";
import type { Tx } from "../db";

/**
 * A patient's message preferences (patient_preferences, migration 20260101009710), as the clinic
 * sees and sets them. The patient's own choice (made in the bot's /settings) always wins; the
 * database lets the dashboard's role write only the clinic's columns, so nothing here can undo a
 * patient's opt-out (docs/preferences.md).
 */

export const CATEGORIES = ["medication", "appointments", "clinic_news"] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_LABELS: Record<Category, string> = {
  medication: "Medication reminders",
  appointments: "Appointment reminders and confirmations",
  clinic_news: "Clinic news (group messages)",
};

export interface PreferenceRow {
  category: Category;
  patient_choice: "in" | "out" | null;
  clinic_choice: "in" | "out" | null;
  channel: string | null;
  opted_out: boolean;
}

export interface Preferences {
  rows: PreferenceRow[];
  /** The patient's standing appointment reminder offsets (minutes), or null: the clinic's. */
  offsets: number[] | null;
  clinicOffsets: number[];
}

/** The three categories for one patient (a category never set reads as opted in). */
export async function patientPreferences(tx: Tx, patientId: string): Promise<Preferences> {
  const rows = await tx<PreferenceRow[]>`
    select c.category, pp.patient_choice, pp.clinic_choice, pp.channel,
           public.preference_opted_out(pp.patient_choice, pp.clinic_choice) as opted_out
      from unnest(${CATEGORIES as unknown as string[]}::text[]) with ordinality c(category, n)
      left join patient_preferences pp on pp.patient_id = ${patientId} and pp.category = c.category
     order by c.n`;
  const [p] = await tx<{ offsets: number[] | null; clinic_offsets: number[] }[]>`
    select p.appointment_reminder_offsets as offsets, o.appointment_reminder_offsets as clinic_offsets
      from patients p join organizations o on o.id = p.organization_id
     where p.id = ${patientId}`;
  return { rows, offsets: p?.offsets ?? null, clinicOffsets: p?.clinic_offsets ?? [1440, 120] };
}

/**
 * The patient's preferences as patientPreferences reads them, their rows and the patient's row
 * locked until the transaction ends: a save compares them with what its page showed and writes
 * in the same transaction, so two saves at once do not both pass the comparison.
 */
export async function lockedPreferences(tx: Tx, patientId: string): Promise<Preferences> {
  await tx`select 1 from patients where id = ${patientId} for update`;
  await tx`select 1 from patient_preferences where patient_id = ${patientId} for update`;
  return patientPreferences(tx, patientId);
}

/** The clinic's choice and channel for one category (audited by a trigger). */
export async function setClinicPreference(
  tx: Tx,
  input: { patientId: string; category: Category; choice: "in" | "out" | null; channel: string | null; by: string },
): Promise<void> {
  await tx`
    insert into patient_preferences (patient_id, category, clinic_choice, clinic_chose_at, clinic_chose_by, channel)
    values (${input.patientId}, ${input.category}, ${input.choice}, now(), ${input.by}, ${input.channel})
    on conflict (patient_id, category) do update
       set clinic_choice = excluded.clinic_choice, clinic_chose_at = excluded.clinic_chose_at,
           clinic_chose_by = excluded.clinic_chose_by, channel = excluded.channel`;
}

/** The patient's standing appointment reminder offsets (null: the clinic's). */
export async function setStandingOffsets(tx: Tx, patientId: string, offsets: number[] | null): Promise<number> {
  const rows = await tx`
    update patients set appointment_reminder_offsets = ${offsets}::integer[] where id = ${patientId}`;
  return rows.count;
}
