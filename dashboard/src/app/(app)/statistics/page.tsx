import type { Metadata } from "next";
import { StatisticsCharts } from "@/components/StatisticsCharts";
import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { clinicStatistics } from "@/lib/data/statistics";
import { TABLES, parsePeriod, percent, todayIn, type Row, type TableName } from "@/lib/statistics";

export const metadata: Metadata = { title: "Statistics" };

const TITLES: Record<TableName, string> = {
  messages_by_channel_status: "Messages by channel and status",
  delivery: "Delivery by channel",
  messages_by_day: "Messages per day",
  replies: "Replies to questions",
  appointment_outcomes: "Appointment outcomes",
  confirmation: "Appointment confirmation",
  no_show: "No-show rate by reminder outcome",
  adherence: "Medication adherence",
  adherence_by_day: "Adherence per day",
  adherence_by_patient: "Patients by adherence",
};

function show(column: string, value: Row[string] | undefined): string {
  if (value === null || value === undefined) return "—";
  if (column.endsWith("_rate") || column === "adherence") return percent(value);
  return String(value);
}

function StatTable({ name, rows, from, to }: { name: TableName; rows: Row[]; from: string; to: string }) {
  const columns = TABLES[name];
  const query = new URLSearchParams({ table: name, from, to }).toString();
  return (
    <div className="panel table-wrap" data-testid={`table-${name}`}>
      <table>
        <caption>
          {TITLES[name]} · <a href={`/statistics/export?${query}`} download>CSV</a>
        </caption>
        <thead>
          <tr>{columns.map((c) => <th key={c} scope="col">{c.replace(/_/g, " ")}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>{columns.map((c) => <td key={c}>{show(c, row[c])}</td>)}</tr>
          ))}
          {rows.length === 0 ? <tr><td colSpan={columns.length} className="muted">Nothing in this period.</td></tr> : null}
        </tbody>
      </table>
    </div>
  );
}

export default async function StatisticsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const clinician = await requireClinician();
  const params = await searchParams;
  const period = parsePeriod(params.from, params.to, todayIn(clinician.timezone));
  const stats = await asClinician(clinician.id, (tx) => clinicStatistics(tx, period.from, period.to));
  const adherence = stats.adherence[0];
  const confirmation = stats.confirmation[0];
  const sent = stats.delivery.reduce((n, r) => n + Number(r.sent ?? 0), 0);
  // Outbox messages (no credentials) reached nobody: tried, never sent; as the API's delivery_rate.
  const tried = stats.delivery.reduce(
    (n, r) => n + Number(r.sent ?? 0) + Number(r.outbox ?? 0) + Number(r.failed ?? 0) + Number(r.expired ?? 0),
    0,
  );
  return (
    <>
      <h1>Statistics</h1>
      <form method="get" className="panel row" aria-label="Period">
        <div className="field">
          <label htmlFor="stats-from">From ({clinician.timezone})</label>
          <input id="stats-from" name="from" type="date" defaultValue={period.from} required />
        </div>
        <div className="field">
          <label htmlFor="stats-to">To (included)</label>
          <input id="stats-to" name="to" type="date" defaultValue={period.to} required />
        </div>
        <div className="field"><button type="submit">Show</button></div>
      </form>
      {period.error ? <p role="alert" className="alert">{period.error} Showing the last 30 days.</p> : null}
      <dl className="panel kpis" data-testid="kpis">
        <div><dt>Delivery rate</dt><dd data-testid="kpi-delivery">{tried ? percent(sent / tried) : "—"}</dd></div>
        <div><dt>Confirmation rate</dt><dd data-testid="kpi-confirmation">{percent(confirmation?.confirmation_rate)}</dd></div>
        {stats.no_show.map((r) => (
          <div key={String(r.reminder)}>
            <dt>No-show rate, {String(r.reminder).replace(/_/g, " ")}</dt>
            <dd data-testid={`kpi-no-show-${r.reminder}`}>{percent(r.no_show_rate)}</dd>
          </div>
        ))}
        <div><dt>Adherence</dt><dd data-testid="kpi-adherence">{percent(adherence?.adherence)}</dd></div>
      </dl>
      <StatisticsCharts stats={stats} from={period.from} to={period.to} />
      {(Object.keys(TABLES) as TableName[]).map((name) => (
        <StatTable key={name} name={name} rows={stats[name]} from={period.from} to={period.to} />
      ))}
    </>
  );
}
