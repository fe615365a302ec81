import { currentClinician } from "@/lib/auth";

/**
 * Whether the request's session is valid: 204, or 401 when it has ended (lib/session-signal.ts).
 * Asked by the page before each auto-refresh, which would otherwise be redirected to sign-in and
 * lose what the clinician was typing. Says nothing else (no name, no id).
 */
export async function GET(): Promise<Response> {
  const clinician = await currentClinician();
  return new Response(null, { status: clinician ? 204 : 401, headers: { "Cache-Control": "no-store" } });
}

export const dynamic = "force-dynamic";
