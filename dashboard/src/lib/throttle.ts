import "server-only";
import { asSignInLookup } from "./db";
import { MAX_FAILURES, WINDOW_MS } from "./sign-in-throttle";

/**
 * Sign-in throttling: at most MAX_FAILURES failed attempts per e-mail address (and per client
 * address) in a window of WINDOW_MS from the first; further attempts are refused without checking
 * the password until the window ends. Kept in PostgreSQL (`dashboard_sign_in_failures`, migration
 * 20260101017560), so every dashboard process counts the same attempts and a restart forgets
 * none. Keys are stored as a salted SHA-256 (the salt of `sign_in_client_salt`), never as typed.
 * Queries run as the dashboard's connection role, like the password lookup (src/lib/db.ts).
 */

const WINDOW_SECONDS = WINDOW_MS / 1000;
// Rows of passed windows removed by each failure, at most (a flood's rows go over its next ones).
const PRUNE_ROWS = 100;

/** Whether any of `keys` has used up its failed attempts. */
export async function isThrottled(keys: string[]): Promise<boolean> {
  const rows = await asSignInLookup(
    (sql) => sql<{ throttled: boolean }[]>`
      select exists (
        select from dashboard_sign_in_failures f
         where f.key_hash in (select encode(sha256(s.salt || convert_to(k, 'UTF8')), 'hex')
                                from unnest(${keys}::text[]) as k, sign_in_client_salt s)
           and f.window_started_at > clock_timestamp() - make_interval(secs => ${WINDOW_SECONDS})
           and f.failures >= ${MAX_FAILURES}) as throttled`,
  );
  return rows[0]?.throttled ?? false;
}

/** Record a failed attempt for each of `keys` (a passed window starts again at one); then remove
 * up to PRUNE_ROWS rows whose window has passed (those just counted started one again). */
export async function recordFailure(keys: string[]): Promise<void> {
  await asSignInLookup(async (sql) => {
    await sql`
      insert into dashboard_sign_in_failures as f (key_hash, failures, window_started_at)
      select distinct encode(sha256(s.salt || convert_to(k, 'UTF8')), 'hex'), 1, clock_timestamp()
        from unnest(${keys}::text[]) as k, sign_in_client_salt s
      on conflict (key_hash) do update
         set failures = case
               when f.window_started_at
                    <= clock_timestamp() - make_interval(secs => ${WINDOW_SECONDS}) then 1
               else f.failures + 1 end,
             window_started_at = case
               when f.window_started_at
                    <= clock_timestamp() - make_interval(secs => ${WINDOW_SECONDS})
               then clock_timestamp()
               else f.window_started_at end`;
    await sql`
      delete from dashboard_sign_in_failures
       where key_hash in (select key_hash from dashboard_sign_in_failures
                           where window_started_at
                                 <= clock_timestamp() - make_interval(secs => ${WINDOW_SECONDS})
                           limit ${PRUNE_ROWS})`;
  });
}

/** Forget the failures of `keys` after a successful sign-in. */
export async function clearFailures(keys: string[]): Promise<void> {
  await asSignInLookup(
    (sql) => sql`
      delete from dashboard_sign_in_failures
       where key_hash in (select encode(sha256(s.salt || convert_to(k, 'UTF8')), 'hex')
                            from unnest(${keys}::text[]) as k, sign_in_client_salt s)`,
  );
}
