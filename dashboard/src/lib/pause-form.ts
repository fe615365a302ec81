import { formatInZone, localInputValue } from "./time";

/**
 * A clinician pausing a patient's reminders from the patient's page (components/PauseControl.tsx):
 * what the form asks for, the field a refusal names and what it says, and how the page says the
 * pause. Pure: unit-tested without a server (test/pause-form.test.mjs).
 *
 * The choices are the patient's own (/pause 3 days, /pause until 3/15, /pause; the patient app's
 * pause_days / pause_until) and the API's: for 1 to 366 days (the same time of day that many days
 * on), until a day (the reminders come back when it begins in the patient's zone), or until
 * resumed. The web process reads them with the same rule (medremind/web/pause_choice.py) and
 * applies the API's pause (medremind/web/clinic_pause.py); this only refuses early what it would.
 */

/** The longest pause with a length, in days (bot/command_phrases.py MAX_SPAN_DAYS). */
export const PAUSE_DAYS_MAX = 366;

/** How long: a number of days, until a day, or until someone resumes them. */
export const PAUSE_FOR = { days: "For a number of days", until: "Until a day", resumed: "Until resumed" } as const;
export type PauseFor = keyof typeof PAUSE_FOR;

/** The form's fields, which a refusal sends back as typed. */
export const PAUSE_FIELDS = ["pause_for", "pause_days", "pause_until"] as const;

/** What the web process is asked (POST /clinic/patients/{id}/pause). */
export type PauseBody =
  | { paused: true; pause_days: number }
  | { paused: true; pause_until: string | null }
  | { paused: false };

export type PauseParse = { ok: true; body: PauseBody } | { ok: false; field: (typeof PAUSE_FIELDS)[number] };

/** The patient's date today in `zone` (YYYY-MM-DD): an end day must come after it. */
export function todayIn(now: Date, zone: string): string {
  return localInputValue(now, zone).slice(0, 10);
}

/** Whether `text` is a real calendar day written YYYY-MM-DD. */
function isDay(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** What a submitted pause form asks for, or the first field at fault. `today`: the patient's. */
export function parsePauseForm(values: Record<(typeof PAUSE_FIELDS)[number], string>, today: string): PauseParse {
  const pauseFor = values.pause_for;
  if (pauseFor === "resumed") return { ok: true, body: { paused: true, pause_until: null } };
  if (pauseFor === "days") {
    const text = values.pause_days.trim();
    const days = /^\d{1,4}$/.test(text) ? Number(text) : 0;
    if (days < 1 || days > PAUSE_DAYS_MAX) return { ok: false, field: "pause_days" };
    return { ok: true, body: { paused: true, pause_days: days } };
  }
  if (pauseFor === "until") {
    const day = values.pause_until.trim();
    // YYYY-MM-DD strings compare as the days they name.
    if (!isDay(day) || day <= today) return { ok: false, field: "pause_until" };
    return { ok: true, body: { paused: true, pause_until: day } };
  }
  return { ok: false, field: "pause_for" };
}

/**
 * The message for a refusal of the pause form, or null for a code it does not make. `today` and
 * `zone`: the patient's (an end day is theirs); `reason`: the service's own words.
 */
export function pauseProblem(code: string | undefined, today: string, zone: string, reason?: string): string | null {
  switch (code) {
    case "pause_for":
      return "How long: choose for a number of days, until a day, or until resumed.";
    case "pause_days":
      return `Days: a whole number of days from 1 to ${PAUSE_DAYS_MAX}, for example 3. The reminders come back by themselves at this time of day that many days on.`;
    case "pause_until":
      return `Until: a day after today (${today} in the patient's time zone, ${zone}), for example the day they leave hospital. The reminders come back when that day begins there.`;
    case "pause_service":
      return `Nothing was changed: ${reason ?? "the MedRemind service gave no usable answer"}.`;
    default:
      return null;
  }
}

/**
 * The pause as the page says it: until when in the patient's zone and, when it shows another
 * wall clock, the clinic's; or until resumed. Null when the reminders are not paused.
 */
export function pauseState(
  paused: boolean,
  until: Date | null,
  patientZone: string,
  clinicZone: string,
): string | null {
  if (!paused) return null;
  if (until === null) {
    return "Reminders paused until resumed: by the patient (/resume in the chat, or their app) or here.";
  }
  const patient = formatInZone(until, patientZone);
  const clinic = formatInZone(until, clinicZone);
  const there = `Reminders paused until ${patient} in the patient's time zone (${patientZone})`;
  const here = clinic === patient ? "" : `, ${clinic} in your clinic's (${clinicZone})`;
  return `${there}${here}. They come back by themselves then, and the patient is told.`;
}
