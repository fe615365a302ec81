import "server-only";
import type { Tx } from "../db";
import { TABLES, type Statistics, type TableName } from "../statistics";

/**
 * The signed-in clinician's clinic statistics for the days `from`..`to` (its calendar), from the
 * same SQL function the Python API answers with. Row-level security applies (SECURITY INVOKER).
 */
export async function clinicStatistics(tx: Tx, from: string, to: string): Promise<Statistics> {
  const rows = await tx.unsafe<{ stats: Record<string, unknown> | null }[]>(
    `select public.clinic_statistics(
              o.id,
              ($1::date)::timestamp at time zone o.timezone,
              ($2::date + 1)::timestamp at time zone o.timezone) as stats
       from organizations o
      where o.id = public.current_organization_id()`,
    [from, to],
  );
  const stats = rows[0]?.stats ?? {};
  const result = {} as Statistics;
  for (const name of Object.keys(TABLES) as TableName[]) {
    const table = stats[name];
    result[name] = Array.isArray(table) ? (table as Statistics[TableName]) : [];
  }
  return result;
}
