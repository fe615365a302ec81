"use client";

import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Text,
  Tooltip,
  XAxis,
  YAxis,
  type XAxisTickContentProps,
} from "recharts";
import { CHART_COLORS, type Row, type Statistics } from "@/lib/statistics";

const COLORS = CHART_COLORS;

/** Legend entries in the page's text colour: the series colours are for bars and lines (3:1),
 * too light for text (4.5:1); the swatch beside each entry still shows the colour. */
function legendText(value: string) {
  return <span style={{ color: "var(--text)" }}>{value}</span>;
}

/** Every series of every chart in the order its bars stack, bottom up. */
const SERIES_ORDER = ["delivered", "sent", "outbox", "failed", "expired", "cancelled", "pending", "processing", "adherence", "attended", "no_show"];
/** The legend in the order the bars stack (left to right is bottom to top), not alphabetical. */
const legendOrder = (item: { dataKey?: unknown }) => SERIES_ORDER.indexOf(String(item.dataKey));

/** A vertical axis's name, centred along the axis (recharts starts it at the middle and runs it
 * upwards, past the top of the plot for "appointments"). */
const axisName = (value: string) => ({ value, angle: -90, position: "insideLeft" as const, style: { textAnchor: "middle" as const } });

/** A category's name under its bar, wrapped onto two lines when the bar is narrower than the
 * words (on a phone "Confirmed", "Not confirmed" and "No reminder" ran into each other). */
function WrappedTick({ x, y, width, visibleTicksCount, fill, payload }: XAxisTickContentProps) {
  const room = Number(width ?? 0) / Math.max(visibleTicksCount, 1) - 6;
  return (
    <Text
      x={x}
      y={y}
      width={Math.max(room, 40)}
      // Where a word is about as wide as its bar ("confirmed" on a phone), a smaller font keeps
      // neighbouring names apart; recharts measures the words in this style.
      style={room < 100 ? { fontSize: 13 } : undefined}
      textAnchor="middle"
      verticalAnchor="start"
      fill={fill}
      className="recharts-cartesian-axis-tick-value"
    >
      {payload.value}
    </Text>
  );
}

// outbox: written to the outbox folder for want of credentials; nobody received it.
const STATUSES = ["delivered", "sent", "outbox", "failed", "expired", "cancelled", "pending", "processing"] as const;
/** Each status in words, for the legend and the tooltip: the colours alone say nothing. */
const STATUS_LABELS: Record<(typeof STATUSES)[number], string> = {
  delivered: "Delivered",
  sent: "Sent (no receipt)",
  outbox: "Outbox (not sent)",
  failed: "Failed",
  expired: "Expired",
  cancelled: "Cancelled",
  pending: "Waiting",
  processing: "Sending",
};
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
          <YAxis allowDecimals={false} label={axisName("messages")} />
          <Tooltip labelFormatter={(d) => shortDay(String(d))} />
          <Legend formatter={legendText} itemSorter={legendOrder} />
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
          <YAxis allowDecimals={false} label={axisName("messages")} />
          <Tooltip />
          <Legend formatter={legendText} itemSorter={legendOrder} />
          {STATUSES.filter((s) => byChannel.some((r) => s in r)).map((s) => (
            <Bar key={s} dataKey={s} name={STATUS_LABELS[s]} stackId="c" fill={COLORS[s]} />
          ))}
        </BarChart>
      </Chart>
      <Chart title="Medication adherence per day (taken of doses due)" id="chart-adherence">
        <LineChart data={adherence} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" tickFormatter={shortDay} minTickGap={12} />
          <YAxis domain={[0, 100]} unit="%" />
          <Tooltip labelFormatter={(d) => shortDay(String(d))} formatter={(v) => `${v}%`} />
          <Legend formatter={legendText} itemSorter={legendOrder} />
          <Line type="linear" dataKey="adherence" name="Adherence" stroke={COLORS.taken} connectNulls dot />
        </LineChart>
      </Chart>
      <Chart title="Appointment outcomes by what the reminders achieved" id="chart-no-show">
        <BarChart data={noShow} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="group" interval={0} height={48} tick={WrappedTick} />
          <YAxis allowDecimals={false} label={axisName("appointments")} />
          <Tooltip />
          <Legend formatter={legendText} itemSorter={legendOrder} />
          <Bar dataKey="attended" name="Attended" stackId="o" fill={COLORS.attended} />
          <Bar dataKey="no_show" name="No-show" stackId="o" fill={COLORS.no_show} />
        </BarChart>
      </Chart>
    </div>
  );
}
