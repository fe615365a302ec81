/**
 * Statistics tables as `public.clinic_statistics` returns them (the Python API's
 * `medremind/web/api_v1/statistics.py` lists the same tables and columns), the period a page asks
 * for, and CSV. Pure: no database, so `npm test` covers it.
 */

export const TABLES = {
  messages_by_channel_status: ["channel", "status", "messages"],
  delivery: [
    "channel", "messages", "sent", "delivered", "failed", "expired", "cancelled", "waiting", "outbox",
    "delivery_rate", "median_seconds_to_send", "p90_seconds_to_send", "median_seconds_to_delivery",
  ],
  messages_by_day: ["day", "messages", "sent", "delivered", "failed", "outbox"],
  replies: ["kind", "asked", "replied", "reply_rate"],
  appointment_outcomes: ["status", "appointments"],
  confirmation: ["reminded", "confirmed", "confirmation_rate"],
  no_show: ["reminder", "with_outcome", "attended", "no_show", "no_show_rate"],
  adherence: ["patients", "doses", "taken", "skipped", "missed", "adherence"],
  adherence_by_day: ["day", "taken", "skipped", "missed", "adherence"],
  adherence_by_patient: ["band", "patients"],
} as const;

/**
 * The charts' series colours. Each stands out from the white panel by at least 3:1 (WCAG 1.4.11,
 * graphical objects; test/statistics.test.mjs checks it): the outbox's light grey (#a0aec0, 2.26:1)
 * was hard to see. Legends write their text in the page's text colour.
 */
export const CHART_COLORS = {
  sent: "#2b6cb0",
  delivered: "#2f855a",
  failed: "#c53030",
  expired: "#b7791f",
  cancelled: "#718096",
  pending: "#805ad5",
  processing: "#d53f8c",
  outbox: "#4a5568",
  taken: "#2f855a",
  skipped: "#b7791f",
  missed: "#c53030",
  attended: "#2f855a",
  no_show: "#c53030",
} as const;

export type TableName = keyof typeof TABLES;
export type Row = Record<string, string | number | null>;
export type Statistics = Record<TableName, Row[]>;

export const MAX_DAYS = 366;
export const DEFAULT_DAYS = 30;
// The years the API takes (medremind/web/api_v1/statistics.py): PostgreSQL has no year 0000, and
// such a day made the page and the CSV export a 500.
export const EARLIEST_DAY = "2000-01-01";
export const LATEST_DAY = "2999-12-31";
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function isTableName(value: unknown): value is TableName {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(TABLES, value);
}

/** Why `value` names no statistics table, and the names that do (the CSV export's 400). */
export function tableNameProblem(value: string | null): string {
  const what = value === null || value === "" ? "is missing" : `'${value}' is not a statistics table`;
  return `table ${what}: use one of ${Object.keys(TABLES).join(", ")}`;
}

/** A real calendar date as YYYY-MM-DD (2026-02-30 is not). */
export function isDay(value: unknown): value is string {
  if (typeof value !== "string" || !DAY.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Today's date in `timeZone`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

export interface Period {
  from: string;
  to: string;
  error: string | null;
}

const YEARS = `give a date between ${EARLIEST_DAY} and ${LATEST_DAY}.`;

/** Whether a real day (isDay) is within the years the statistics take. */
function inYears(day: string): boolean {
  return day >= EARLIEST_DAY && day <= LATEST_DAY;
}

/**
 * The days asked for (both included): the last 30 days up to `today` by default; a wrong or too
 * long period falls back to the default with a message saying why.
 */
export function parsePeriod(from: unknown, to: unknown, today: string): Period {
  const fallback = { from: addDays(today, 1 - DEFAULT_DAYS), to: today };
  const last = to === undefined || to === "" ? today : to;
  if (!isDay(last)) return { ...fallback, error: "To: give a date as YYYY-MM-DD." };
  if (!inYears(last)) return { ...fallback, error: `To: ${YEARS}` };
  // Unasked, the period starts no earlier than the first day the statistics take.
  const unasked = addDays(last, 1 - DEFAULT_DAYS);
  const first = from === undefined || from === "" ? (unasked < EARLIEST_DAY ? EARLIEST_DAY : unasked) : from;
  if (!isDay(first)) return { ...fallback, error: "From: give a date as YYYY-MM-DD." };
  if (!inYears(first)) return { ...fallback, error: `From: ${YEARS}` };
  if (first > last) return { ...fallback, error: "From must not be after To." };
  const days = (Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000 + 1;
  if (days > MAX_DAYS) return { ...fallback, error: `The period may span at most ${MAX_DAYS} days.` };
  return { from: first, to: last, error: null };
}

function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  // Spreadsheets run a cell that starts with = + - @ as a formula; the values here are numbers,
  // dates and our own names, but a leading quote keeps any text inert all the same.
  const safe = /^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text)) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One table as CSV (RFC 4180, CRLF) with its header line. */
export function toCsv(table: TableName, rows: Row[]): string {
  const columns = TABLES[table];
  const lines = [columns.join(",")];
  for (const row of rows) lines.push(columns.map((c) => cell(row[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** A rate (0..1) as a percentage for people, or a dash when there is nothing to divide. */
export function percent(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return `${(Number(value) * 100).toFixed(1)}%`;
}
