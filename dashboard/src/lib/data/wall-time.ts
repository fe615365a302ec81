import "server-only";
import type { Tx } from "../db";

// Times a few seconds in the past are a slow form, not a mistake (the API's PAST_TOLERANCE).
const PAST_TOLERANCE_SECONDS = 60;

/**
 * Whether the wall time `localTime` (`YYYY-MM-DDTHH:MM`) in `timezone` is already past, as the
 * database reads it (`public.wall_time_instant`: a time the clocks show twice is the first). The
 * API refuses a past `scheduled_time` or `starts_at` (422, `fields.not_past`); the dashboard's
 * Compose scheduled a message "at" a past time, which went out at once (at 23:30, "08:00" meant
 * for tomorrow morning but dated today), and booked or moved appointments into the past.
 */
export async function wallTimePast(tx: Tx, localTime: string, timezone: string): Promise<boolean> {
  const [row] = await tx<{ past: boolean }[]>`
    select public.wall_time_instant(${localTime}::text::timestamp, ${timezone})
             < now() - make_interval(secs => ${PAST_TOLERANCE_SECONDS}) as past`;
  return row?.past ?? false;
}
