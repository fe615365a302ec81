import "server-only";
import { asClinician } from "./db";
import type { PauseBody } from "./pause-form";
import { serviceProblem } from "./service-problem";

/**
 * Pausing or resuming a patient's reminders through the web process, which runs the API's own
 * pause (medremind/web/clinic_pause.py: what is pending withdrawn "paused by the clinic", the
 * re-plan, the patient told). The server first asks the database, as the signed-in clinician
 * under RLS, for a one-time token bound to them and this patient (public.issue_pause_token,
 * migration 20260101018450), which is null for a patient not of their clinic or erased: "not
 * found", as every action says of a forged or stale id. Nothing is written here.
 */

/** What the change came to. */
export type PauseResult =
  | { ok: true }
  | { ok: false; problem: "not_found" }
  | { ok: false; problem: "field"; field: string; reason: string }
  | { ok: false; problem: "service"; reason: string };

const TIMEOUT_MS = 20000; // a re-plan of a patient with many schedules may take a few seconds

/** True when the web process is configured (MEDREMIND_API_URL). */
export function pauseConfigured(): boolean {
  return Boolean(process.env.MEDREMIND_API_URL?.trim());
}

/** Ask the web process to pause or resume `patientId` as `body` says, as `clinicianId`. */
export async function changePause(clinicianId: string, patientId: string, body: PauseBody): Promise<PauseResult> {
  const base = process.env.MEDREMIND_API_URL?.trim();
  if (!base) {
    return { ok: false, problem: "service", reason: "the MedRemind service is not configured on the dashboard's server (MEDREMIND_API_URL)" };
  }
  const [row] = await asClinician(clinicianId, (tx) => tx<{ token: string | null }[]>`
    select public.issue_pause_token(${patientId}::uuid) as token`);
  if (!row?.token) return { ok: false, problem: "not_found" };
  let response: Response;
  try {
    response = await fetch(`${base.replace(/\/+$/, "")}/clinic/patients/${patientId}/pause`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${row.token}` },
      body: JSON.stringify(body),
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    return { ok: false, problem: "service", reason: serviceProblem(null).reason };
  }
  if (response.ok) return { ok: true };
  if (response.status === 404) return { ok: false, problem: "not_found" };
  if (response.status === 401) {
    // The token was just issued: a web process on another database, or a clock far off.
    return { ok: false, problem: "service", reason: "the MedRemind service did not take the dashboard's one-time token (is MEDREMIND_API_URL the service on this database?)" };
  }
  if (response.status === 422) {
    try {
      const data = (await response.json()) as { error?: { reason?: unknown; field?: unknown } };
      const { field, reason } = data.error ?? {};
      if (typeof field === "string" && typeof reason === "string") return { ok: false, problem: "field", field, reason };
    } catch {
      // Not JSON: said as the status below.
    }
  }
  return { ok: false, problem: "service", reason: serviceProblem(response.status).reason };
}
