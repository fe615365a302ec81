import Link from "next/link";
import { type GroupReportFields, groupReport } from "@/lib/compose";

/**
 * After a group message that left patients out (no channel reaches them and it was due within
 * the refusal window) or reaches some only if they come back: what was done, and whom it
 * concerns by name. Shown instead of the form, so the same message is not sent twice by
 * pressing Send again.
 */
export function GroupReport({ report }: { report: GroupReportFields }) {
  const text = groupReport(report);
  return (
    <section className="panel" aria-labelledby="group-report-h" data-testid="group-report">
      <h2 id="group-report-h">Group message</h2>
      <p role="status" className="notice" data-testid="group-report-summary">
        {text.summary}
      </p>
      {text.skipped ? <Concerned text={text.skipped} names={report.skipped} testId="group-skipped" /> : null}
      {text.later ? <Concerned text={text.later} names={report.unreachableLater} testId="group-unreachable-later" /> : null}
      {text.notConsented ? <Concerned text={text.notConsented} names={report.notConsented} testId="group-not-consented" /> : null}
      {text.capped ? <Concerned text={text.capped} names={report.capped ?? []} testId="group-patient-cap" /> : null}
      {text.fix ? <p data-testid="group-fix">{text.fix}</p> : null}
      <p className="row" style={{ alignItems: "center" }}>
        <Link className="button" href="/messages?status=pending">
          See pending messages
        </Link>
        {/* A full load: a new, empty form (client navigation would keep this one's state). */}
        <a href="/messages/new?audience=group">Compose another</a>
      </p>
    </section>
  );
}

/** What happened to some patients, and their names (labels: never a full address). */
function Concerned({ text, names, testId }: { text: string; names: readonly string[]; testId: string }) {
  return (
    <div className="notice warning" data-testid={testId}>
      <p>{text}</p>
      <ul>
        {names.map((name, i) => (
          <li key={`${i}-${name}`}>{name}</li>
        ))}
      </ul>
    </div>
  );
}
