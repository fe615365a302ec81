import "server-only";
import { createHash, randomBytes } from "node:crypto";
import type { Tx } from "../db";

/**
 * Patient invites, as the Python API makes them: a random token of 24 bytes (URL-safe base64),
 * stored only as its hex SHA-256 (`patient_invites.token_hash`), which the bot looks up when the
 * patient opens `https://t.me/<bot>?start=<token>`. The token is shown once and never stored.
 */

export const INVITE_HOURS = 7 * 24;

export interface Invite {
  token: string;
  expiresAt: Date;
  /** The patient's IANA zone: the page names when the link ends on their clock too. */
  patientTimezone: string;
}

/** Create an invite for a patient of the organization; null when the patient is not visible. */
export async function createInvite(tx: Tx, patientId: string): Promise<Invite | null> {
  const token = randomBytes(24).toString("base64url");
  const hash = createHash("sha256").update(token).digest("hex");
  const rows = await tx<{ expires_at: Date; patient_timezone: string }[]>`
    insert into patient_invites (organization_id, patient_id, token_hash, expires_at)
    select p.organization_id, p.id, ${hash}, now() + make_interval(hours => ${INVITE_HOURS})
      from patients p where p.id = ${patientId} and p.status <> 'deleted'
    returning expires_at, (select p.timezone from patients p where p.id = patient_id) as patient_timezone`;
  const row = rows[0];
  return row ? { token, expiresAt: row.expires_at, patientTimezone: row.patient_timezone } : null;
}
