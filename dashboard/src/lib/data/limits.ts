import "server-only";
import type { Tx } from "../db";
import { DEFAULT_SMS_MAX_SEGMENTS } from "../sms";

/**
 * The SMS segment limit the service enforces: `medremind worker` and `medremind web` publish
 * MEDREMIND_SMS_MAX_SEGMENTS in `service_limits` when they start (core/service_limits.py), so the
 * dashboard's checks follow the one setting. The default until a service process has started.
 */
export async function smsMaxSegments(tx: Tx): Promise<number> {
  const rows = await tx.unsafe<{ sms_max_segments: number }[]>(
    "select sms_max_segments from service_limits where id",
  );
  return rows[0]?.sms_max_segments ?? DEFAULT_SMS_MAX_SEGMENTS;
}
