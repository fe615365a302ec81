/**
 * When a caregiver is alerted about a missed dose, as things stand. A caregiver whose alerts are
 * held (opted out, unreachable, a typed Telegram chat id awaiting its link) is alerted only once
 * that ends, so their line says on what condition rather than "alerted after 30 min", which the
 * clinician would read as a promise beside the bold "no alerts" that follows it.
 *
 * Pure (no server import), so the wordings are unit-tested (test/caregiver-alerts.test.mjs).
 */

/** What the wording reads of a caregiver (`CaregiverRow` of lib/data/patients has these). */
export interface CaregiverAlertFacts {
  alert_delay_minutes: number;
  active: boolean;
  opted_out_at: Date | string | null;
  blocked_at: Date | string | null;
  awaiting_link_since: Date | string | null;
}

export function alertTiming(c: CaregiverAlertFacts): string {
  const after = `alerted after ${c.alert_delay_minutes} min`;
  if (!c.active) return "no alerts";
  if (c.opted_out_at) return `${after} once they send START`;
  if (c.blocked_at) return `${after} once they write to the service`;
  if (c.awaiting_link_since) return `${after} once their own chat opens a link`;
  return after;
}
