import { requireClinician } from "@/lib/auth";
import { asClinician } from "@/lib/db";
import { clinicStatistics } from "@/lib/data/statistics";
import { isTableName, parsePeriod, tableNameProblem, toCsv, todayIn } from "@/lib/statistics";

/** `GET /statistics/export?table=<name>&from=&to=`: one statistics table as a CSV download. */
export async function GET(request: Request): Promise<Response> {
  const clinician = await requireClinician();
  const url = new URL(request.url);
  const table = url.searchParams.get("table");
  if (!isTableName(table)) {
    return new Response(`${tableNameProblem(table)}\n`, { status: 400 });
  }
  const period = parsePeriod(
    url.searchParams.get("from") ?? undefined,
    url.searchParams.get("to") ?? undefined,
    todayIn(clinician.timezone),
  );
  if (period.error) return new Response(`${period.error}\n`, { status: 400 });
  const stats = await asClinician(clinician.id, (tx) => clinicStatistics(tx, period.from, period.to));
  return new Response(toCsv(table, stats[table]), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${table}_${period.from}_${period.to}.csv"`,
      "Cache-Control": "no-store",
    },
  });
}
