/**
 * A waitlist entry's hours, From and Until: the patient's own wall clock (pure; the server
 * action's check and the list's label). Until before From is an overnight window, until that
 * time on the next day, the day it starts on being the one its weekday names (migration
 * 20260101019470, core/sql/waitlist.sql fitting_entries); the same time for both is refused.
 */
import { isClockTime } from "./time";

/**
 * The field a waitlist form's hours are refused on (error `waitlist_hours`), or null when they
 * can be stored: each empty (null) or HH:MM, and not both the same time, which would be no time at
 * all or the whole day (the clinician leaves both empty for any hour).
 */
export function waitlistHoursProblem(earliest: string | null, latest: string | null): "earliest" | "latest" | null {
  if (earliest !== null && !isClockTime(earliest)) return "earliest";
  if (latest !== null && !isClockTime(latest)) return "latest";
  if (earliest !== null && earliest === latest) return "latest";
  return null;
}

/** Whether From and Until cross midnight: Until is before From (HH:MM compare as text). */
export function overnight(earliest: string | null, latest: string | null): boolean {
  return earliest !== null && latest !== null && latest < earliest;
}

/**
 * The list's Hours: "09:00–12:00", "23:30–01:00 next day" (overnight), "22:00–…", "…–10:00", or
 * "Any time" with neither.
 */
export function waitlistHoursLabel(earliest: string | null, latest: string | null): string {
  if (earliest === null && latest === null) return "Any time";
  const span = `${earliest ?? "…"}–${latest ?? "…"}`;
  return overnight(earliest, latest) ? `${span} next day` : span;
}
