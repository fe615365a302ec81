/** Date formatting in the clinic's timezone (pure; used on the server and in the browser). */

/**
 * "22 Nov 2026, 14:05" in `timeZone`, or an em dash for null. A wall time the clocks show twice
 * (the night they fall back: 01:30 in New York on 1 November 2026, once in summer time, once an
 * hour later in winter time) carries its zone's abbreviation, or its offset where the zone has
 * none in English: "1 Nov 2026, 01:30 EDT" and "1 Nov 2026, 01:30 EST", so that a clinician can
 * tell the first from the second.
 */
export function formatInZone(value: Date | string | null | undefined, timeZone: string): string {
  if (value === null || value === undefined) return "—";
  const date = typeof value === "string" ? new Date(value) : value;
  const shown = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
  return shownTwice(date, timeZone) ? `${shown} ${zoneName(date, timeZone)}` : shown;
}

/**
 * Whether the wall time of `date` in `timeZone` (to the minute) happens twice: another instant,
 * the zone's offset change away, shows it too. The offsets a day before and a day after are the
 * ones on either side of a change (changes are months apart).
 */
export function shownTwice(date: Date, timeZone: string): boolean {
  const wall = localInputValue(date, timeZone);
  const offset = offsetAt(date, timeZone);
  for (const probe of [date.getTime() - DAY_MS, date.getTime() + DAY_MS]) {
    const other = offsetAt(new Date(probe), timeZone);
    if (other !== offset && localInputValue(new Date(date.getTime() + offset - other), timeZone) === wall) {
      return true;
    }
  }
  return false;
}

/** The zone's UTC offset at `date`, in milliseconds (to the minute). */
function offsetAt(date: Date, timeZone: string): number {
  const minute = Math.floor(date.getTime() / 60_000) * 60_000;
  return Date.parse(`${localInputValue(date, timeZone)}:00Z`) - minute;
}

/**
 * The zone's short name at `date`: an abbreviation where English has one ("EDT", "CEST", "BST"),
 * else the offset ("GMT+11"): either tells the two occurrences of a repeated hour apart.
 */
export function zoneName(date: Date, timeZone: string): string {
  let fallback = "";
  for (const locale of ["en-GB", "en-US"]) {
    const name = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" })
      .formatToParts(date)
      .find((part) => part.type === "timeZoneName")?.value;
    if (name && !/^(GMT|UTC)[+-]/.test(name)) return name;
    fallback ||= name ?? "";
  }
  return fallback;
}

/**
 * The caption of a list of times on a patient's page when the patient's zone is not the
 * clinic's, naming the zone the list is in ("Times in the patient's zone, Asia/Magadan"), else
 * null. The page shows the patient's next message and dose history in their zone and the
 * messages in the clinic's: unlabelled, one reminder read "6 Dec 2026, 00:10" in one list and
 * "5 Dec 2026, 08:10" in the other.
 */
export function zoneCaption(whose: "patient" | "clinic", patientZone: string, clinicZone: string): string | null {
  if (patientZone === clinicZone) return null;
  return whose === "patient"
    ? `Times in the patient's zone, ${patientZone}`
    : `Times in your clinic's zone, ${clinicZone}`;
}

/**
 * The patient's own time of an appointment when their zone shows another wall clock than the
 * clinic's at that instant ("patient's time: 03:00 (America/New_York)", with the date when it is
 * another day there), else null: the same zone, or another with the same offset then (Madrid and
 * Paris). The patient's messages name both times the same way (scheduler/appointment_times.py).
 */
export function patientTimeNote(
  value: Date | string,
  clinicZone: string,
  patientZone: string | null | undefined,
): string | null {
  if (!patientZone || patientZone === clinicZone) return null;
  const date = typeof value === "string" ? new Date(value) : value;
  let clinic: string;
  let patient: string;
  try {
    clinic = localInputValue(date, clinicZone);
    patient = localInputValue(date, patientZone);
  } catch {
    return null; // a zone Intl does not know: nothing to add
  }
  if (clinic === patient) return null;
  const shown =
    clinic.slice(0, 10) === patient.slice(0, 10)
      ? patient.slice(11, 16)
      : formatInZone(date, patientZone).replace(/ \d{4},/, ",");
  return `patient's time: ${shown} (${patientZone})`;
}

/** The `YYYY-MM-DDTHH:MM` wall-clock value of `date` in `timeZone`, for datetime-local inputs. */
export function localInputValue(date: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// The hours a suggested appointment may start at (the clinic's wall clock): whole hours from
// OPENS to LAST_START; outside them, MORNING.
const OPENS = 8;
const LAST_START = 17;
const MORNING = 9;

/**
 * A new appointment's suggested start: tomorrow (a day after `now`) on the clinic's next whole
 * hour ("2026-12-05T10:00" at 09:47 on the 4th), which is what clinics book, not this very minute;
 * rounded on the wall clock, so it is whole in a zone half an hour off UTC too. Outside office
 * hours (before 08:00, after 17:00) it is 09:00 tomorrow: a clinician working at 23:30 was offered
 * 00:00 the day after tomorrow, and the night before the clocks go forward 01:30 offered 02:00 on
 * a day that has no 02:00, which the form then refused.
 */
export function tomorrowOnTheHour(now: Date, timeZone: string): string {
  const local = localInputValue(new Date(now.getTime() + 24 * 60 * 60 * 1000), timeZone);
  const minutes = Number(local.slice(11, 13)) * 60 + Number(local.slice(14, 16));
  const next = Math.ceil(minutes / 60);
  const hour = next >= OPENS && next <= LAST_START ? next : MORNING;
  return `${local.slice(0, 10)}T${String(hour).padStart(2, "0")}:00`;
}

// The years a form's time may name, as the API's date-times (medremind/web/api_v1/fields.py).
export const FIRST_YEAR = 1970;
export const LAST_YEAR = 9998;

/**
 * Whether `value` is a datetime-local value of a real calendar day and time of day, in the years
 * 1970 to 9998, checked before SQL casts it: "2026-02-30T10:00" or "2026-11-22T25:00" look right
 * but make the `::timestamp` cast raise, which a form could only answer with a vague error. A
 * datetime-local field takes years up to 275760: an appointment moved to 9999-12-31 23:59 ended
 * in year 10000, which JavaScript cannot read back, and the Appointments page failed for the
 * whole clinic.
 */
export function isLocalDateTime(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as number[];
  if (year! < FIRST_YEAR || year! > LAST_YEAR || hour! > 23 || minute! > 59 || second! > 59) return false;
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  // setUTCFullYear: Date.UTC reads years 0-99 as 1900-1999.
  date.setUTCFullYear(year!);
  return date.getUTCMonth() === month! - 1 && date.getUTCDate() === day;
}

/**
 * Whether the wall-clock `value` (a datetime-local value {@link isLocalDateTime} accepts) never
 * happens in `timeZone`: it falls in the hour the clocks skip when summer time begins (02:30 on
 * 14 March 2027 in America/Los_Angeles). PostgreSQL reads such a time with the offset before the
 * change, so a message or an appointment would silently move an hour later (to 03:30).
 *
 * A wall time exists when one of the zone's offsets around it (a day before, at, a day after:
 * changes are months apart) maps it to an instant that shows that wall time again.
 */
export function skippedByClockChange(value: string, timeZone: string): boolean {
  const target = value.slice(0, 16);
  const wall = Date.parse(`${target}:00Z`);
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const offset = Date.parse(`${localInputValue(new Date(probe), timeZone)}:00Z`) - probe;
    if (localInputValue(new Date(wall - offset), timeZone) === target) return false;
  }
  return true;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The instant the wall-clock `value` (a datetime-local value) names in `timeZone`, as the server
 * reads it (public.wall_time_instant, Python's fold=0): a time shown twice the night the clocks go
 * back is the first of the two; null for a time the clocks skip ({@link skippedByClockChange}),
 * which Compose refuses, or a value that is not a date and time.
 */
export function wallTimeInstant(value: string, timeZone: string): Date | null {
  if (!isLocalDateTime(value)) return null;
  const target = value.slice(0, 16);
  const wall = Date.parse(`${target}:00Z`);
  let first: number | null = null;
  for (const probe of [wall - DAY_MS, wall, wall + DAY_MS]) {
    const offset = Date.parse(`${localInputValue(new Date(probe), timeZone)}:00Z`) - probe;
    const instant = wall - offset;
    if (localInputValue(new Date(instant), timeZone) === target && (first === null || instant < first)) first = instant;
  }
  return first === null ? null : new Date(first);
}

/**
 * Whether `value` is a time of day as `HH:MM`, 00:00 to 23:59.
 *
 * Postgres's `time` type also takes "24:00", but Python's `datetime.time` cannot hold it: asyncpg
 * fails to decode such a row, and a quiet-hours default of 24:00 would break every dispatcher
 * claim that includes a patient of that clinic (and the other rows claimed with it).
 */
export function isClockTime(value: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(value);
}

/**
 * Whether quiet hours `start`-`end` (two clock times, HH:MM) are a window of no length other than
 * 00:00 to 00:00, which is "no quiet hours" (core/quiet_windows.py, the API's and the bot's rule):
 * stored, any start equal to its end is off, so "22:00 to 22:00" meant as a night sent at any hour.
 */
export function quietWindowOfNoLength(start: string, end: string): boolean {
  return start === end && start !== "00:00";
}

/**
 * Whether `zone` is a time zone dates can be shown in. "Etc/Unknown" (stored for "Factory"
 * before the API refused it) is not: formatting a date in it throws, and a patient's page in it
 * failed as a whole; the page shows the clinic's time instead and says why (no reminder is
 * planned for such a patient).
 */
export function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The canonical IANA name of `zone` ("europe/madrid" -> "Europe/Madrid", "US/Eastern" ->
 * "America/New_York", "Asia/Calcutta" -> "Asia/Kolkata"), or null when it is not a named IANA zone.
 * The API stores the same name for every zone (core/zone_names.py; test/zone-names.json holds
 * both to one table): a patient's zone reads the same whichever way the clinic entered it.
 *
 * Store this, never what was typed: Intl matches zone names in any case, but the reminder
 * planner (Python's zoneinfo, on a case-sensitive file system) does not, and a patient whose
 * zone it cannot load gets no reminders at all. UTC offsets ("+03:00") are refused too: they
 * have no daylight-saving rules and zoneinfo cannot load them.
 */
export function canonicalTimezone(zone: string): string | null {
  const typed = zone.trim();
  if (!typed || /^[+-]/.test(typed)) return null;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat("en", { timeZone: typed }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  // ICU keeps the old names of renamed zones as its canonical ones: "Asia/Kolkata" typed came
  // back "Asia/Calcutta", "Europe/Kyiv" "Europe/Kiev", which the clinic and the patient (in the
  // bot's /settings) then read. The current IANA name is stored, whichever of the two was typed.
  const renamed = IANA_NAME_OF_ICU_NAME[resolved];
  if (renamed !== undefined) return renamed;
  return /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(resolved) ? resolved : null;
}

// tzdata's fixed offsets named the POSIX way round: Etc/GMT+5 is five hours *behind* UTC.
const ETC_OFFSET = /^Etc\/GMT[+-](\d{1,2})$/;
// tzdata's legacy EST and MST: fixed offsets, unlike the regions they are named after.
const FIXED_REGION_NAMES = new Set(["EST", "MST"]);

/**
 * Why the typed `zone` cannot be a clinic's or a patient's: an error code of ./errors.ts, or null
 * when canonicalTimezone gives its name. The API's rule (medremind/web/api_v1/fields.py, a 422):
 * a fixed offset keeps no summer time, and Etc/GMT+5, read as UTC+5, reminded ten hours off;
 * EST for New York reminded an hour late from March to November.
 */
export function timezoneProblem(zone: string): string | null {
  const canonical = canonicalTimezone(zone);
  if (canonical === null) return "timezone";
  if (FIXED_REGION_NAMES.has(zone.trim().toUpperCase())) return "timezone_fixed_region";
  const offset = ETC_OFFSET.exec(canonical);
  return offset && Number(offset[1]) !== 0 ? "timezone_fixed_offset" : null;
}

/**
 * ICU's canonical id -> the IANA name, for the zones IANA renamed and ICU (CLDR keeps ids stable)
 * did not.
 */
const IANA_NAME_OF_ICU_NAME: Readonly<Record<string, string>> = {
  "Africa/Asmera": "Africa/Asmara",
  "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
  "America/Catamarca": "America/Argentina/Catamarca",
  "America/Coral_Harbour": "America/Atikokan",
  "America/Cordoba": "America/Argentina/Cordoba",
  "America/Godthab": "America/Nuuk",
  "America/Indianapolis": "America/Indiana/Indianapolis",
  "America/Jujuy": "America/Argentina/Jujuy",
  "America/Louisville": "America/Kentucky/Louisville",
  "America/Mendoza": "America/Argentina/Mendoza",
  "Asia/Calcutta": "Asia/Kolkata",
  "Asia/Katmandu": "Asia/Kathmandu",
  "Asia/Rangoon": "Asia/Yangon",
  "Asia/Saigon": "Asia/Ho_Chi_Minh",
  "Atlantic/Faeroe": "Atlantic/Faroe",
  "Europe/Kiev": "Europe/Kyiv",
  "Pacific/Enderbury": "Pacific/Kanton",
  "Pacific/Ponape": "Pacific/Pohnpei",
  "Pacific/Truk": "Pacific/Chuuk",
};
