/**
 * A reminder schedule in one line, as the patient's page lists it under the medicine:
 * "08:00, 20:00 · every day · from 2026-12-05 · 30 doses in all · active".
 * Pure, for the page and its unit test.
 */

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export interface ScheduleFields {
  times_of_day: string[];
  days_of_week: number[] | null;
  every_n_days: number | null;
  start_date: string;
  end_date: string | null;
  /** FHIR Timing.repeat.count: the reminders stop after this many doses (null: no such limit). */
  max_count: number | null;
  status: string;
}

/** Which days: the weekdays, the day interval, both (a dose on those weekdays of every Nth day), or every day. */
export function scheduleDays(s: Pick<ScheduleFields, "days_of_week" | "every_n_days">): string {
  const weekdays = s.days_of_week ? s.days_of_week.map((d) => WEEKDAYS[d - 1]).join(" ") : null;
  const interval = s.every_n_days && s.every_n_days > 1 ? `every ${s.every_n_days} days` : null;
  // Both filters hold together (scheduler/recurrence.py): the grid's dates that fall on those days.
  if (weekdays && interval) return `${interval} from the start, on ${weekdays} only`;
  return weekdays ?? interval ?? "every day";
}

export function scheduleSummary(s: ScheduleFields): string {
  const parts = [
    s.times_of_day.map((t) => t.slice(0, 5)).join(", "),
    scheduleDays(s),
    `from ${s.start_date}${s.end_date ? ` to ${s.end_date}` : ""}`,
  ];
  // A counted schedule (a FHIR import's course) stops after its count, end date or not: the
  // page said "every day" with no end, as if the reminders went on.
  if (s.max_count !== null) parts.push(`${s.max_count} dose${s.max_count === 1 ? "" : "s"} in all`);
  parts.push(s.status);
  return parts.join(" · ");
}
