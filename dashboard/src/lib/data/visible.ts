import "server-only";
import type { Tx } from "../db";

const TABLES = {
  message: "scheduled_messages",
  appointment: "appointments",
  waitlist: "waitlist_entries",
} as const;

/**
 * Whether row `id` of `what` is one the clinician may see (row-level security decides). An action
 * refused on an id the clinician cannot see (another clinic's, in a forged form) says "not found",
 * never the state the row is in: that would tell them the id exists.
 */
export async function visible(tx: Tx, what: keyof typeof TABLES, id: string): Promise<boolean> {
  const rows = await tx.unsafe(`select 1 from ${TABLES[what]} where id = $1`, [id]);
  return rows.length === 1;
}
