/**
 * Appointment reminder offsets (minutes before the appointment) as a clinician reads and types
 * them. Pure: unit-tested in test/offsets.test.mjs; the same rules as the bot's /settings
 * (bot/dialogs/preferences.py) and the table's check (1 to 6 offsets, 5 minutes to 14 days).
 */

export const MIN_OFFSET = 5;
export const MAX_OFFSET = 20160;
export const MAX_OFFSETS = 6;

/** "24 h, 2 h" (largest first) from minutes. */
export function offsetsLabel(minutes: number[]): string {
  return [...minutes]
    .sort((a, b) => b - a)
    .map((m) => (m % 60 === 0 ? `${m / 60} h` : `${m} min`))
    .join(", ");
}

/** The form field's text for stored offsets: "24 2", "30m" for minutes. */
export function offsetsInput(minutes: number[] | null): string {
  return minutes ? [...minutes].sort((a, b) => b - a).map((m) => (m % 60 === 0 ? `${m / 60}` : `${m}m`)).join(" ") : "";
}

/**
 * Offsets as typed: hours ("24 2", "24h, 2h") or minutes ("30m"); "clinic" for an empty field
 * (the clinic's offsets), null when not valid.
 */
export function parseOffsets(text: string): number[] | null | "clinic" {
  const tokens = text.trim().toLowerCase().split(/[\s,;]+/).filter(Boolean);
  if (tokens.length === 0) return "clinic";
  const found: number[] = [];
  for (const token of tokens) {
    const m = /^(\d{1,5})(h|m|min)?$/.exec(token);
    if (!m) return null;
    const minutes = m[2] === "m" || m[2] === "min" ? Number(m[1]) : Number(m[1]) * 60;
    if (minutes < MIN_OFFSET || minutes > MAX_OFFSET) return null;
    found.push(minutes);
  }
  const unique = [...new Set(found)].sort((a, b) => b - a);
  return unique.length >= 1 && unique.length <= MAX_OFFSETS ? unique : null;
}
