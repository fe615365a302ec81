import "server-only";
import postgres from "postgres";
import { connectionOptions, statementTimeoutMs } from "./dburl.mjs";

/**
 * Data access as the signed-in clinician.
 *
 * The dashboard connects with DATABASE_URL (server only) but never queries clinic data as that
 * role: every request runs in a transaction that switches to `authenticated` and sets the JWT
 * claims Supabase's PostgREST would set, so the same row-level security policies apply.
 */

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

const globalForDb = globalThis as unknown as { medremindSql?: Sql; medremindStatementTimeout?: string };

/** Each transaction's statement timeout (ms), read and checked once: a wrong value stops the first request naming it. */
function statementTimeout(): string {
  globalForDb.medremindStatementTimeout ??= String(statementTimeoutMs(process.env.DASHBOARD_STATEMENT_TIMEOUT_SECONDS));
  return globalForDb.medremindStatementTimeout;
}

function client(): Sql {
  if (!globalForDb.medremindSql) {
    const url = process.env.DATABASE_URL;
    if (!url) {
      throw new Error("DATABASE_URL is not set (the dashboard needs it on the server)");
    }
    const o = connectionOptions(url);
    globalForDb.medremindSql = postgres({
      host: o.host,
      port: o.port,
      path: o.path,
      database: o.database,
      username: o.user,
      password: o.password,
      ssl: o.ssl,
      prepare: o.prepare,
      max: Number(process.env.DASHBOARD_DB_POOL_MAX ?? 5),
      idle_timeout: 30,
      connection: { application_name: "medremind-dashboard" },
      onnotice: () => undefined,
    });
  }
  return globalForDb.medremindSql;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID (checked before it reaches a `uuid` cast, which would raise). */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/**
 * Run `work` in one transaction as `authenticated` with `sub` = the clinician's auth.users id,
 * each statement bounded by DASHBOARD_STATEMENT_TIMEOUT_SECONDS.
 */
export async function asClinician<T>(clinicianId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (!isUuid(clinicianId)) {
    throw new Error("clinician id must be a uuid");
  }
  const claims = JSON.stringify({ sub: clinicianId, role: "authenticated" });
  const timeout = statementTimeout();
  const result = await client().begin(async (tx) => {
    await tx.unsafe("set local role authenticated");
    // Bounded: a table a migration or a stuck transaction holds fails the page after the timeout
    // (the error page, "try again") instead of holding the request and a pooled connection.
    await tx`select set_config('request.jwt.claims', ${claims}, true), set_config('statement_timeout', ${timeout}, true)`;
    return work(tx);
  });
  return result as T;
}

/**
 * Run `work` as the connection's own role, outside row-level security, in one transaction whose
 * statements are bounded by DASHBOARD_STATEMENT_TIMEOUT_SECONDS like every other. Used only for
 * the sign-in's password hash and throttle, before anyone is known; nothing else may call it.
 * Without the bound, a sign-in waited for as long as a lock on its tables was held (a stuck
 * transaction, a migration), its form saying "Signing in…" and a pooled connection held.
 */
export async function asSignInLookup<T>(work: (sql: Tx) => Promise<T>): Promise<T> {
  const timeout = statementTimeout();
  const result = await client().begin(async (tx) => {
    await tx`select set_config('statement_timeout', ${timeout}, true)`;
    return work(tx);
  });
  return result as T;
}
