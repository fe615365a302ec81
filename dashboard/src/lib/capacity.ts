/**
 * The clinic's settings for the 08:00 peak (issue 20, docs/delivery.md "Capacity at the 08:00
 * peak"), as the settings page shows and saves them. Pure: unit-tested without a server.
 *
 * - `organizations.early_send_seconds` ({kind: seconds}): when the planner forecasts more
 *   reminders at one instant than the Telegram bots send in a minute, a routine reminder of a kind
 *   named here may be scheduled up to that many seconds early (never a time-critical dose, never
 *   into the patient's quiet hours). The dashboard asks for whole minutes, 0 to 60.
 * - `organizations.telegram_paid_broadcast_after_seconds` (null: off): messages at least this many
 *   seconds late (by the dose's time) go with Telegram's `allow_paid_broadcast`, up to 1,000 a
 *   second a bot instead of 30, and Telegram takes 0.1 Stars a message from the bot's balance.
 *
 * The API (`PATCH /api/v1/clinic`) takes the same columns with the same limits for paid broadcast
 * (0 to 86,400 seconds) and allows up to an hour early; the dashboard's window stops at 60 minutes.
 */

/** Message kinds the planner may send early, with how the page names them. */
export const EARLY_KINDS = { medication_reminder: "Medication reminders" } as const;
export type EarlyKind = keyof typeof EARLY_KINDS;

export const EARLY_MAX_MINUTES = 60;
export const PAID_AFTER_MAX_SECONDS = 86400;
/** What Telegram charges for one message sent with allow_paid_broadcast. */
export const STARS_PER_PAID_MESSAGE = 0.1;
/** A bot's rate without and with paid broadcast (messages a second). */
export const FREE_RATE = 30;
export const PAID_RATE = 1000;

/** The stored form of the capacity settings. */
export interface CapacitySettings {
  early_send_seconds: Record<string, number>;
  telegram_paid_broadcast_after_seconds: number | null;
}

/** The form's fields that can be at fault, with what would be valid. */
export const CAPACITY_PROBLEMS: Record<string, string> = {
  early_medication_reminder: `Medication reminders early send window: a whole number of minutes from 0 to ${EARLY_MAX_MINUTES} (0: never early).`,
  paid_mode: "Paid broadcast: choose Off, or On for messages a number of seconds late.",
  paid_after_seconds: `Paid broadcast: the seconds late must be a whole number from 0 to ${PAID_AFTER_MAX_SECONDS.toLocaleString("en")} (24 hours; 0 pays for every message), or choose Off.`,
  admin_only: "Only an admin of your clinic can change its peak settings. Ask an admin to make the change, or to make you an admin.",
};

/** A refusal names the form field at fault (a key of CAPACITY_PROBLEMS). */
export type CapacityParse = { ok: true; value: CapacitySettings } | { ok: false; field: string };

/** The form field of a kind's early window. */
export function earlyField(kind: EarlyKind): string {
  return `early_${kind}`;
}

/** Every field of the capacity form, which a refusal sends back as chosen. */
export const CAPACITY_FIELDS: readonly string[] = [
  ...(Object.keys(EARLY_KINDS) as EarlyKind[]).map(earlyField),
  "paid_mode",
  "paid_after_seconds",
];

function wholeNumber(raw: FormDataEntryValue | null): number | null {
  const text = typeof raw === "string" ? raw.trim() : "";
  return /^\d{1,6}$/.test(text) ? Number(text) : null;
}

/** The settings a submitted capacity form asks for, or the first field at fault. */
export function parseCapacityForm(form: FormData): CapacityParse {
  const early: Record<string, number> = {};
  for (const kind of Object.keys(EARLY_KINDS) as EarlyKind[]) {
    const raw = form.get(earlyField(kind));
    const blank = typeof raw !== "string" || raw.trim() === "";
    const minutes = blank ? 0 : wholeNumber(raw);
    if (minutes === null || minutes > EARLY_MAX_MINUTES) return { ok: false, field: earlyField(kind) };
    if (minutes > 0) early[kind] = minutes * 60;
  }
  const mode = form.get("paid_mode");
  if (mode !== "off" && mode !== "after") return { ok: false, field: "paid_mode" };
  let after: number | null = null;
  if (mode === "after") {
    after = wholeNumber(form.get("paid_after_seconds"));
    if (after === null || after > PAID_AFTER_MAX_SECONDS) return { ok: false, field: "paid_after_seconds" };
  }
  return { ok: true, value: { early_send_seconds: early, telegram_paid_broadcast_after_seconds: after } };
}

/** The message for a refused field (null for a code this page does not make). */
export function capacityProblem(field: string | null): string | null {
  return field !== null && Object.hasOwn(CAPACITY_PROBLEMS, field) ? CAPACITY_PROBLEMS[field]! : null;
}

/** A kind's stored early window in whole minutes (an API-set value rounds down). */
export function earlyMinutes(stored: Record<string, unknown> | null | undefined, kind: EarlyKind): number {
  const seconds = stored?.[kind];
  return typeof seconds === "number" && seconds > 0 ? Math.floor(seconds / 60) : 0;
}

/** Stars for `messages` paid messages, as Telegram counts them. */
export function starsFor(messages: number): number {
  return Math.round(messages * STARS_PER_PAID_MESSAGE * 10) / 10;
}

/** One sentence saying what the stored early window does. */
export function earlySummary(stored: Record<string, unknown> | null | undefined): string {
  const parts = (Object.keys(EARLY_KINDS) as EarlyKind[])
    .map((kind) => [kind, earlyMinutes(stored, kind)] as const)
    .filter(([, minutes]) => minutes > 0)
    .map(([kind, minutes]) => `${EARLY_KINDS[kind].toLowerCase()} up to ${minutes} min early`);
  return parts.length
    ? `In a forecast peak: ${parts.join("; ")} (never a time-critical dose, never into quiet hours).`
    : "Off: every reminder waits for its own time.";
}

/** One sentence saying what the stored paid broadcast setting does and costs. */
export function paidSummary(after: number | null): string {
  if (after === null) {
    return `Off: each Telegram bot sends at most ${FREE_RATE} messages a second; at a peak the rest wait their turn.`;
  }
  const when = after === 0 ? "every non-urgent message" : `messages at least ${after.toLocaleString("en")} s late`;
  return `On for ${when}: up to ${PAID_RATE.toLocaleString("en")} a second a bot, at ${STARS_PER_PAID_MESSAGE} Telegram Stars each (1,000 messages: ${starsFor(1000)} Stars).`;
}
