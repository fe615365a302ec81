/**
 * Sign-in through Supabase Auth where it is configured (SUPABASE_URL and SUPABASE_ANON_KEY on the
 * server): the e-mail and password go to GoTrue's password grant, which answers with the user.
 * Only the user's id is kept; the dashboard's own session cookie carries it, and every query
 * then runs with the same claims (`sub` = that id) as without Supabase Auth.
 */

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The auth.users id for a correct e-mail and password, null for wrong ones; throws otherwise. */
export async function supabasePasswordUserId(
  baseUrl: string,
  anonKey: string,
  email: string,
  password: string,
  fetchImpl: FetchLike = fetch,
): Promise<string | null> {
  const response = await fetchImpl(`${baseUrl.replace(/\/$/, "")}/auth/v1/token?grant_type=password`, {
    method: "POST",
    headers: { apikey: anonKey, "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(10_000),
  });
  // GoTrue answers 400 invalid_grant for a wrong e-mail or password (and unconfirmed e-mails).
  if (response.status === 400 || response.status === 401 || response.status === 422) return null;
  if (!response.ok) throw new Error(`Supabase Auth answered ${response.status}`);
  const body = (await response.json()) as { user?: { id?: unknown } };
  const id = body.user?.id;
  return typeof id === "string" ? id : null;
}
