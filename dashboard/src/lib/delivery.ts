/**
 * How a message's delivery reads on the dashboard, and what re-sending it may do. Pure: used by
 * the message list, the patient's timeline and the re-send action.
 *
 * An outbox delivery (`via_outbox`: a channel without credentials wrote the message to a file,
 * only in `medremind dev` or with MEDREMIND_OUTBOX_ENABLED) is `sent` for the worker but reached
 * nobody, so it never reads as a plain "sms · sent". A failed message can be re-sent once: the
 * database function `resend_message` makes a new pending copy and keeps the failed one (with its
 * attempts) as it was.
 */

/** What a message needs for these decisions. */
export interface DeliveryFacts {
  status: string;
  platform: string;
  channel_used: string | null;
  via_outbox: boolean;
  /** The copy that re-sends this (failed) message, if any. */
  resent_as: string | null;
  /**
   * Why this failed dose reminder or follow-up can no longer be re-sent (`dose_closed`: its dose
   * was answered, missed or cancelled; `too_late`: its time has passed), else null. The rule of
   * public.resend_message (migration 20260101016500), read with the row.
   */
  resend_closed: string | null;
}

/** Shown next to an outbox delivery (also as its tooltip's first words). */
export const OUTBOX_LABEL = "outbox · not received";
export const OUTBOX_HINT =
  "Written to the outbox folder, not sent: this channel has no provider credentials (MEDREMIND_OUTBOX_ENABLED). The patient did not receive it.";

/** The channel as shown: the one used (else the one asked for), marked when it was the outbox. */
/**
 * What a message is, as the lists name it: its kind, and for a dose's reminder or follow-up the
 * medicine. A patient with two medicines due at 08:00 has two reminders then, which read as the
 * same message twice ("medication reminder"): a duplicate to cancel, to the clinician's eye.
 */
export function kindLabel(kind: string, medicine: string | null): string {
  const label = kind.replaceAll("_", " ");
  return medicine ? `${label} · ${medicine}` : label;
}

export function channelLabel(m: Pick<DeliveryFacts, "platform" | "channel_used" | "via_outbox">): string {
  const channel = m.channel_used ?? m.platform;
  return m.via_outbox ? `${channel} · ${OUTBOX_LABEL}` : channel;
}

/**
 * Whether the message offers "Re-send": failed, not re-sent already, and not a dose's reminder
 * past its time or of an answered dose (the button would only be refused).
 */
export function canResend(m: Pick<DeliveryFacts, "status" | "resent_as" | "resend_closed">): boolean {
  return m.status === "failed" && m.resent_as === null && m.resend_closed === null;
}

/** What a failed dose reminder that cannot be re-sent says instead of "Re-send", or null. */
export function resendClosedText(m: Pick<DeliveryFacts, "status" | "resent_as" | "resend_closed">): string | null {
  if (m.status !== "failed" || m.resent_as !== null || m.resend_closed === null) return null;
  return m.resend_closed === "dose_closed"
    ? "Not re-sendable: its dose was answered or closed since."
    : "Not re-sendable: its dose's time has passed (a late reminder risks a double dose).";
}

/**
 * Outcomes of `resend_message` (migration 20260101009310), and the dashboard's own
 * `resend_unreachable` (no channel reaches the patient now: the copy would fail again).
 */
export const RESEND_OUTCOMES = [
  "resent",
  "already_resent",
  "not_failed",
  "patient_erased",
  "not_found",
  "resend_unreachable",
  // A dose's reminder or follow-up whose dose is answered, or whose time has passed (migration
  // 20260101016500): a copy now would prompt a dose already taken, or a double dose.
  "dose_closed",
  "too_late",
] as const;
export type ResendOutcome = (typeof RESEND_OUTCOMES)[number];

/** The `?error=` code a re-send's outcome redirects with; null when the copy was made. */
export function resendError(outcome: string): string | null {
  if (outcome === "resent") return null;
  // Not found reads as the other message actions read it (Cancel, Send now): another clinic's id
  // and one that does not exist alike, and naming what was not found ("That item" did not).
  if (outcome === "not_found") return "message_not_found";
  return (RESEND_OUTCOMES as readonly string[]).includes(outcome) ? outcome : "message_not_found";
}

/**
 * The notice after Cancel of a pending message (`?cancelled=1`); null for anything else. Said
 * because the row just leaves the pending list, like a message that went.
 */
export function cancelledNotice(cancelled: unknown): string | null {
  return cancelled === "1"
    ? "Cancelled: the message will not be sent. It is listed under the status cancelled."
    : null;
}

/**
 * The notice after a re-send (`?resent=`): "1", the copy was made; "share", the copy of a
 * priority-0 message was made at the default priority, the clinic's hourly share of priority 0
 * being taken (public.resend_message, migration 20260101017650); null for anything else.
 */
export function resentNotice(resent: unknown): string | null {
  const made = "Re-sent: a new message is on its way; the failed one keeps its delivery history.";
  if (resent === "1") return made;
  if (resent === "share") {
    return (
      `${made} It goes at normal priority, after the dose reminders due with it: the failed one went` +
      " first of all (priority 0), and your clinic's messages that go first are used up for this" +
      " hour (the service's operator sets how many: MEDREMIND_API_PRIORITY_ZERO_PER_HOUR)."
    );
  }
  return null;
}

// A pending message's last_error that says it is held as it should be, not that something went
// wrong: scheduler/quiet_hours.py DEFERRED_REASON and scheduler/quiet_release.py RELEASED_REASON.
const HOLD_NOTES: ReadonlySet<string> = new Set([
  "deferred to the end of quiet hours",
  "quiet hours changed: no longer deferred",
]);

/**
 * How a message's `last_error` is shown: "note" (muted) for a pending message held by the
 * patient's quiet hours, as asked; "error" (red) otherwise. Found using the dashboard at night: a
 * message sent to a patient inside their quiet hours read in red, as a failure, while it waited
 * for the morning as it should.
 */
export function lastErrorTone(status: string, lastError: string): "note" | "error" {
  return status === "pending" && HOLD_NOTES.has(lastError) ? "note" : "error";
}
