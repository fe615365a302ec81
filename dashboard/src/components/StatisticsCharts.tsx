"use client";

import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { Row, Statistics } from "@/lib/statistics";

const COLORS = {
  sent: "#2b6cb0",
  delivered: "#2f855a",
  failed: "#c53030",
  expired: "#b7791f",
  cancelled: "#718096",
  pending: "#805ad5",
  processing: "#d53f8c",
  outbox: "#a0aec0",
  taken: "#2f855a",
  skipped: "#b7791f",
  missed: "#c53030",
  attended: "#2f855a",
  no_show: "#c53030",
} as const;

// outbox: written to the outbox folder for want of credentials; nobody received it.
const STATUSES = ["delivered", "sent", "outbox", "failed", "expired", "cancelled", "pending", "processing"] as const;
const GROUP_LABELS: Record<string, string> = {
  confirmed: "Confirmed",
  reminded_not_confirmed: "Not confirmed",
  not_reminded: "No reminder",
};

/** "2026-11-03" as "3 Nov" (the date is the clinic's calendar day: no timezone shift). */
function shortDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}

function num(value: Row[string] | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Every day of the period, so days without rows show as zero instead of vanishing. */
function everyDay(from: string, to: string, rows: Row[], fields: string[]): Row[] {
  const byDay = new Map(rows.map((r) => [String(r.day), r]));
  const out: Row[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const row = byDay.get(day);
    out.push(Object.fromEntries([["day", day], ...fields.map((f) => [f, row?.[f] ?? null])]));
  }
  return out;
}

function Chart({ title, id, children }: { title: string; id: string; children: React.ReactElement }) {
  return (
    <figure className="panel chart" aria-labelledby={id} data-testid={id}>
      <figcaption id={id}><strong>{title}</strong></figcaption>
      <div style={{ width: "100%", height: 260 }}>
        <ResponsiveContainer width="100%" height="100%">{children}</ResponsiveContainer>
      </div>
    </figure>
  );
}

/** The statistics page's charts (recharts): axes with dates, legends, tooltips. */
export function StatisticsCharts({ stats, from, to }: { stats: Statistics; from: string; to: string }) {
  const perDay = everyDay(from, to, stats.messages_by_day, ["sent", "delivered", "failed", "outbox"]).map((r) => ({
    day: r.day,
    // sent counts delivered messages too; the bars stack, so show the parts.
    delivered: num(r.delivered),
    sent: num(r.sent) - num(r.delivered),
    outbox: num(r.outbox),
    failed: num(r.failed),
  }));
  const anyOutbox = perDay.some((r) => r.outbox > 0);
  const channels = Array.from(new Set(stats.messages_by_channel_status.map((r) => String(r.channel))));
  const byChannel = channels.map((channel) => {
    const row: Record<string, string | number> = { channel };
    for (const r of stats.messages_by_channel_status) {
      if (r.channel === channel) row[String(r.status)] = num(r.messages);
    }
    return row;
  });
  const adherence = everyDay(from, to, stats.adherence_by_day, ["adherence"]).map((r) => ({
    day: r.day,
    adherence: r.adherence === null ? null : Math.round(num(r.adherence) * 1000) / 10,
  }));
  const noShow = stats.no_show.map((r) => ({
    group: GROUP_LABELS[String(r.reminder)] ?? String(r.reminder),
    attended: num(r.attended),
    no_show: num(r.no_show),
  }));
  return (
    <div className="charts">
      <Chart title="Messages per day by outcome" id="chart-messages-per-day">
        <BarChart data={perDay} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" tickFormatter={shortDay} minTickGap={12} />
          <YAxis allowDecimals={false} label={{ value: "messages", angle: -90, position: "insideLeft" }} />
          <Tooltip labelFormatter={(d) => shortDay(String(d))} />
          <Legend />
          <Bar dataKey="delivered" name="Delivered" stackId="m" fill={COLORS.delivered} />
          <Bar dataKey="sent" name="Sent (no receipt)" stackId="m" fill={COLORS.sent} />
          {/* Only where the outbox was used (medremind dev without credentials): a bar that is
              always zero in production would only puzzle a clinic. */}
          {anyOutbox && <Bar dataKey="outbox" name="Outbox (not sent)" stackId="m" fill={COLORS.outbox} />}
          <Bar dataKey="failed" name="Failed or expired" stackId="m" fill={COLORS.failed} />
        </BarChart>
      </Chart>
      <Chart title="Messages by channel and status" id="chart-messages-by-channel">
        <BarChart data={byChannel} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="channel" />
          <YAxis allowDecimals={false} label={{ value: "messages", angle: -90, position: "insideLeft" }} />
          <Tooltip />
          <Legend />
          {STATUSES.filter((s) => byChannel.some((r) => s in r)).map((s) => (
            <Bar key={s} dataKey={s} name={s} stackId="c" fill={COLORS[s]} />
          ))}
        </BarChart>
      </Chart>
      <Chart title="Medication adherence per day (taken of doses due)" id="chart-adherence">
        <LineChart data={adherence} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" tickFormatter={shortDay} minTickGap={12} />
          <YAxis domain={[0, 100]} unit="%" />
          <Tooltip labelFormatter={(d) => shortDay(String(d))} formatter={(v) => `${v}%`} />
          <Legend />
          <Line type="linear" dataKey="adherence" name="Adherence" stroke={COLORS.taken} connectNulls dot />
        </LineChart>
      </Chart>
      <Chart title="Appointment outcomes by what the reminders achieved" id="chart-no-show">
        <BarChart data={noShow} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="group" interval={0} />
          <YAxis allowDecimals={false} label={{ value: "appointments", angle: -90, position: "insideLeft" }} />
          <Tooltip />
          <Legend />
          <Bar dataKey="attended" name="Attended" stackId="o" fill={COLORS.attended} />
          <Bar dataKey="no_show" name="No-show" stackId="o" fill={COLORS.no_show} />
        </BarChart>
      </Chart>
    </div>
  );
}
