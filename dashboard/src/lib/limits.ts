/**
 * The longest value each text filled into reminders may hold, in UTF-16 units (what a JavaScript
 * string's length and an input's maxLength count): core/template_vocabulary.py VARIABLES, which
 * the template length check assumes and the database's CHECK constraints enforce
 * (migration 20260101009110). tests/unit/test_dashboard_limits.py keeps the two equal.
 */
export const VALUE_MAX = {
  patient_name: 50,
  clinic_name: 60,
  clinician_name: 50,
  location: 80,
  medicine_name: 60,
  dose_text: 40,
} as const;

/** The error code for a value longer than its maximum (see ./errors.ts). */
export function tooLongCode(field: keyof typeof VALUE_MAX): string {
  return `too_long_${field}`;
}
