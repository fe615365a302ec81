/**
 * Whether "Send now" on a pending message may send it, and what the clinician is asked first.
 * Pure: the Scheduled messages list and the server action decide with the same function.
 *
 * A dose's reminder says "Time for your 8:00 PM dose": sent hours early, the patient takes the
 * dose early (and answers Taken, so the reminder at its time never comes). So a medication
 * reminder is not sent before its dose's time, less the clinic's early window for medication
 * reminders (Settings, Morning peak: what the clinic already lets the planner send early; none for
 * a time-critical medicine). To tell the patient something before, the clinician writes a message.
 * Every other message may go now, once the clinician has confirmed its time (named in the
 * question), and only as confirmed: a message moved since (the planner re-timed it) is not sent.
 * A failed dose reminder is re-sent only within its time (public.resend_message, migration
 * 20260101016500): the same rule from the other side.
 */

export interface SendNowFacts {
  kind: string;
  scheduled_time: Date;
  /** The dose a reminder or follow-up is about: when it is due. */
  dose_due_at: Date | null;
  /** How early the clinic lets a reminder of this dose go (seconds; 0 for a time-critical one). */
  dose_early_seconds: number;
}

export type SendNowVerdict =
  /** A medication reminder before its dose's time: not sent now; write a message instead. */
  | { verdict: "dose_not_due"; due: Date }
  /** Due later: asked first, naming how early. */
  | { verdict: "confirm"; earlyMs: number }
  /** Due already (the worker takes it anyway). */
  | { verdict: "due" };

/** What Send now may do with `m` at `now`. */
export function sendNowVerdict(m: SendNowFacts, now: Date): SendNowVerdict {
  if (m.kind === "medication_reminder") {
    const due = m.dose_due_at ?? m.scheduled_time;
    if (due.getTime() - now.getTime() > Math.max(0, m.dose_early_seconds) * 1000) return { verdict: "dose_not_due", due };
  }
  const earlyMs = m.scheduled_time.getTime() - now.getTime();
  return earlyMs > 0 ? { verdict: "confirm", earlyMs } : { verdict: "due" };
}

/** "3 h 5 min", "40 min", "2 days 3 h", "less than a minute": how early a send now is. */
export function earlyByText(ms: number): string {
  if (ms < 60_000) return "less than a minute";
  // To the nearest minute: a page shown seconds after 20:00 for a message due at 23:00 says 3 h.
  const minutes = Math.round(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts: string[] = [];
  if (days > 0) parts.push(`${days} day${days === 1 ? "" : "s"}`);
  if (hours > 0) parts.push(`${hours} h`);
  if (rest > 0 && days === 0) parts.push(`${rest} min`);
  return parts.join(" ");
}

// Kinds the patient chose the time of: quiet hours never hold them (scheduler/quiet_hours.py).
const PATIENT_CHOSEN_KINDS = new Set(["medication_reminder", "dose_followup"]);

/** Whether the patient's quiet hours may still hold `m` once due (scheduler.quiet_hours.is_deferrable). */
export function quietHoursMayHold(m: { kind: string; urgent: boolean }): boolean {
  return !m.urgent && !PATIENT_CHOSEN_KINDS.has(m.kind);
}
