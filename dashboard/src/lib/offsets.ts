/**
 * Appointment reminder offsets (minutes before the appointment) as a clinician reads and types
 * them, in one form for the clinic's Settings and the patient's page: each time with its unit,
 * hours ("24h"), minutes ("30m") or days ("2d"), separated by spaces or commas. A bare number is
 * refused: Settings took minutes ("1440, 120") and the patient page hours ("24 2"), so "120"
 * meant two hours in one field and five days in the other. Pure: unit-tested in
 * test/offsets.test.mjs. Each field keeps its own bounds (the database's and the API's).
 */

/** How many offsets a field takes and how far before the appointment. */
export interface OffsetRules {
  min: number;
  max: number;
  maxCount: number;
}

/** A patient's standing offsets: patients' check (1 to 6, 5 minutes to 14 days), as the bot's /settings. */
export const PATIENT_OFFSETS: OffsetRules = { min: 5, max: 20160, maxCount: 6 };
/** The clinic's default offsets: PATCH /api/v1/clinic's (at most 10, 1 minute to 30 days; none: no reminders). */
export const CLINIC_OFFSETS: OffsetRules = { min: 1, max: 43200, maxCount: 10 };

// Kept for the bot's and the table's names of the patient's bounds.
export const MIN_OFFSET = PATIENT_OFFSETS.min;
export const MAX_OFFSET = PATIENT_OFFSETS.max;
export const MAX_OFFSETS = PATIENT_OFFSETS.maxCount;

const UNIT_MINUTES: Record<string, number> = { m: 1, min: 1, h: 60, d: 1440 };

/** One offset in words: "2 h", "90 min". */
function offsetWords(m: number): string {
  return m % 60 === 0 ? `${m / 60} h` : `${m} min`;
}

/** One offset as typed back: "2h", "90m". */
function offsetToken(m: number): string {
  return m % 60 === 0 ? `${m / 60}h` : `${m}m`;
}

/** "24 h, 2 h" (largest first) from minutes. */
export function offsetsLabel(minutes: number[]): string {
  return [...minutes].sort((a, b) => b - a).map(offsetWords).join(", ");
}

/** The form field's text for stored offsets: "24h 2h", "30m"; "" for none (or null). */
export function offsetsInput(minutes: number[] | null): string {
  return minutes ? [...minutes].sort((a, b) => b - a).map(offsetToken).join(" ") : "";
}

/**
 * Offsets as typed, largest first and without repeats: [] for an empty field, null when any
 * token has no unit, is not a number, or lies outside `rules`, or there are too many.
 */
export function parseOffsetList(text: string, rules: OffsetRules): number[] | null {
  const tokens = text.trim().toLowerCase().split(/[\s,;]+/).filter(Boolean);
  const found: number[] = [];
  for (const token of tokens) {
    const m = /^(\d{1,5})(m|min|h|d)$/.exec(token);
    if (!m) return null;
    const minutes = Number(m[1]) * (UNIT_MINUTES[m[2] ?? ""] ?? 0);
    if (minutes < rules.min || minutes > rules.max) return null;
    found.push(minutes);
  }
  const unique = [...new Set(found)].sort((a, b) => b - a);
  return unique.length <= rules.maxCount ? unique : null;
}

/** A patient's standing offsets as typed: "clinic" for an empty field (the clinic's), null when not valid. */
export function parseOffsets(text: string): number[] | null | "clinic" {
  const parsed = parseOffsetList(text, PATIENT_OFFSETS);
  if (parsed === null) return null;
  return parsed.length === 0 ? "clinic" : parsed;
}
