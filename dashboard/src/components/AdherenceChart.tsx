import type { DoseRow } from "@/lib/data/patients";

/** Daily adherence over the last 30 days as bars, with a text summary for screen readers. */
export function AdherenceChart({ doses, timezone }: { doses: DoseRow[]; timezone: string }) {
  const dayKey = new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" });
  const days: { key: string; taken: number; closed: number }[] = [];
  const now = Date.now();
  for (let i = 29; i >= 0; i -= 1) {
    days.push({ key: dayKey.format(new Date(now - i * 86_400_000)), taken: 0, closed: 0 });
  }
  const byKey = new Map(days.map((d) => [d.key, d]));
  for (const dose of doses) {
    if (dose.due_at.getTime() > now) continue;
    const day = byKey.get(dayKey.format(dose.due_at));
    if (!day || !["taken", "skipped", "missed"].includes(dose.status)) continue;
    day.closed += 1;
    if (dose.status === "taken") day.taken += 1;
  }
  const taken = days.reduce((n, d) => n + d.taken, 0);
  const closed = days.reduce((n, d) => n + d.closed, 0);
  const summary =
    closed === 0
      ? "No doses were due in the last 30 days."
      : `${taken} of ${closed} doses taken in the last 30 days (${Math.round((100 * taken) / closed)}%).`;
  return (
    <figure style={{ margin: 0 }}>
      <div className="bars" role="img" aria-label={`Daily adherence, last 30 days. ${summary}`}>
        {days.map((d) => (
          <span
            key={d.key}
            className={d.closed === 0 ? "none" : d.taken / d.closed >= 0.8 ? "good" : d.taken / d.closed >= 0.5 ? "mid" : "low"}
            style={{ height: d.closed === 0 ? "2px" : `${Math.max(4, (100 * d.taken) / d.closed)}%` }}
            title={`${d.key}: ${d.closed === 0 ? "no doses" : `${d.taken}/${d.closed}`}`}
          />
        ))}
      </div>
      <figcaption className="muted">{summary}</figcaption>
    </figure>
  );
}
