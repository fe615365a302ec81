import "server-only";
import { type AccountChannel } from "./account-fields";
import { asClinician, type Tx } from "./db";

export { ACCOUNT_CHANNELS, accountFields, isAccountChannel, type AccountChannel } from "./account-fields";

/**
 * A clinic's own provider accounts (Twilio SMS / WhatsApp sender, SMTP server).
 *
 * Their secrets are encrypted by the Python web process with MEDREMIND_CREDENTIALS_KEY, which the
 * dashboard never holds: to save, the server asks the database (as the signed-in clinician, under
 * RLS) for a one-time admin token (`issue_clinic_admin_token()`, refused unless the clinician is
 * an admin) and sends the fields to `PUT {MEDREMIND_API_URL}/clinic/provider-accounts/{channel}`
 * with it. The web process checks the account at the provider before storing it. Reading goes
 * straight to the table: clinicians may read every column but the secret.
 */

/** A stored account as the dashboard may show it: no secret, a masked hint. */
export interface AccountView {
  channel: AccountChannel;
  config: Record<string, unknown>;
  secret_hint: string;
  inbound_number: string | null;
  validated_at: Date;
}

/** What saving answered: ok, or the field at fault and why (the provider's words). */
export type SaveResult = { ok: true } | { ok: false; field: string | null; reason: string };

const TIMEOUT_MS = 20000; // the provider check may take a few seconds

/** The clinic's accounts (RLS: the signed-in clinician's clinic). */
export async function listAccounts(tx: Tx): Promise<AccountView[]> {
  return tx<AccountView[]>`
    select channel, config, secret_hint, inbound_number, validated_at
      from clinic_provider_accounts
     where organization_id = public.current_organization_id()
     order by channel`;
}

/** True when the web process that holds the credentials key is configured. */
export function accountsConfigured(): boolean {
  return Boolean(process.env.MEDREMIND_API_URL?.trim());
}

async function adminToken(clinicianId: string): Promise<string> {
  const [row] = await asClinician(clinicianId, (tx) => tx<{ token: string }[]>`
    select public.issue_clinic_admin_token() as token`);
  if (!row) throw new Error("no admin token was issued");
  return row.token;
}

/** Send an admin's change to the web process; `fields` null removes the clinic's account. */
export async function changeAccount(
  clinicianId: string,
  channel: AccountChannel,
  fields: Record<string, string | number> | null,
): Promise<SaveResult> {
  const base = process.env.MEDREMIND_API_URL?.trim();
  if (!base) {
    return { ok: false, field: null, reason: "MEDREMIND_API_URL is not set on the dashboard's server." };
  }
  const token = await adminToken(clinicianId); // throws for a clinician who is not an admin
  let response: Response;
  try {
    response = await fetch(`${base.replace(/\/+$/, "")}/clinic/provider-accounts/${channel}`, {
      method: fields === null ? "DELETE" : "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: fields === null ? undefined : JSON.stringify(fields),
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    return { ok: false, field: null, reason: "The MedRemind web process did not answer; try again." };
  }
  if (response.ok) return { ok: true };
  try {
    const data = (await response.json()) as { error?: { reason?: unknown; field?: unknown } };
    const reason = typeof data.error?.reason === "string" ? data.error.reason : null;
    const field = typeof data.error?.field === "string" ? data.error.field : null;
    if (reason) return { ok: false, field, reason };
  } catch {
    // Not JSON: the generic answer below.
  }
  return { ok: false, field: null, reason: `The MedRemind web process answered ${response.status}.` };
}
