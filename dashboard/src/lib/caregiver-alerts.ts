import type { CaregiverRow } from "@/lib/data/patients";

/**
 * When a caregiver is alerted about a missed dose, as things stand. A caregiver whose alerts are
 * held (opted out, unreachable, a typed Telegram chat id awaiting its link) is alerted only once
 * that ends, so their line says on what condition rather than "alerted after 30 min", which the
 * clinician would read as a promise beside the bold "no alerts" that follows it.
 */
export function alertTiming(c: CaregiverRow): string {
  const after = `alerted after ${c.alert_delay_minutes} min`;
  if (!c.active) return "no alerts";
  if (c.opted_out_at) return `${after} once they send START`;
  if (c.blocked_at) return `${after} once they write to the service`;
  if (c.awaiting_link_since) return `${after} once their own chat opens a link`;
  return after;
}
