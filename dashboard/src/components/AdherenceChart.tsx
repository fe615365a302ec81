import { type AdherenceDay, adherence } from "@/lib/data/patients";

/**
 * Daily adherence over the last 30 days as bars (lib/data/patients.ts adherenceDays: every dose
 * due in those days, counted as the patients list counts them), with a text summary for screen
 * readers.
 */
export function AdherenceChart({ days }: { days: AdherenceDay[] }) {
  const taken = days.reduce((n, d) => n + d.taken, 0);
  const closed = days.reduce((n, d) => n + d.closed, 0);
  const summary =
    closed === 0
      ? "No doses were due in the last 30 days."
      : `${taken} of ${closed} doses taken in the last 30 days (${adherence(taken, closed)}%).`;
  return (
    <figure style={{ margin: 0 }}>
      <div className="bars" role="img" aria-label={`Daily adherence, last 30 days. ${summary}`}>
        {days.map((d) => (
          <span
            key={d.day}
            className={d.closed === 0 ? "none" : d.taken / d.closed >= 0.8 ? "good" : d.taken / d.closed >= 0.5 ? "mid" : "low"}
            style={{ height: d.closed === 0 ? "2px" : `${Math.max(4, (100 * d.taken) / d.closed)}%` }}
            title={`${d.day}: ${d.closed === 0 ? "no doses" : `${d.taken}/${d.closed}`}`}
          />
        ))}
      </div>
      <figcaption className="muted" data-testid="adherence-summary">{summary}</figcaption>
    </figure>
  );
}
