// Parse a PostgreSQL URL into explicit options for the `postgres` driver.
//
// Shared by the NextJS server (through dburl.d.mts) and the node scripts. The driver's own URL
// parsing sends unknown query parameters to the server as settings and cannot read libpq's
// Unix-socket form `postgresql://user:@/db?host=/run/dir`, which the embedded server and the test
// suite use, so the URL is taken apart here instead.

/**
 * @param {string} url
 * @returns {import("./dburl.d.mts").ConnectionOptions}
 */
export function connectionOptions(url) {
  const match = /^postgres(?:ql)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/.exec(
    url,
  );
  if (!match) {
    throw new Error("DATABASE_URL is not a postgres:// or postgresql:// URL");
  }
  const [, user = "", password = "", hostPort = "", database = "", queryString = ""] = match;
  const query = new URLSearchParams(queryString);
  let host = "";
  let port = 5432;
  if (hostPort) {
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
    if (bracketed) {
      host = bracketed[1] ?? "";
      if (bracketed[2]) port = Number(bracketed[2]);
    } else {
      const [h = "", p] = hostPort.split(":");
      host = decodeURIComponent(h);
      if (p) port = Number(p);
    }
  }
  const queryHost = query.get("host");
  if (queryHost) host = queryHost;
  const queryPort = query.get("port");
  if (queryPort) port = Number(queryPort);
  if (!host) host = "localhost";

  const sslmode = query.get("sslmode");
  /** @type {import("./dburl.d.mts").ConnectionOptions} */
  const options = {
    user: decodeURIComponent(user) || "postgres",
    password: decodeURIComponent(password),
    database: decodeURIComponent(database) || decodeURIComponent(user) || "postgres",
    host,
    port,
    // Supabase's transaction pooler (port 6543, or Prisma's flag) cannot keep prepared statements.
    prepare: !(port === 6543 || query.get("pgbouncer") === "true"),
    ssl: sslmode && sslmode !== "disable" ? (sslmode === "verify-full" ? "verify-full" : "require") : false,
  };
  if (host.startsWith("/")) {
    options.path = `${host}/.s.PGSQL.${port}`;
  }
  return options;
}

// A dashboard statement's longest run when DASHBOARD_STATEMENT_TIMEOUT_SECONDS is unset: far
// above any page's queries (milliseconds; a year of statistics in seconds), short enough that a
// clinician waiting on a table a migration or a stuck transaction holds gets an answer.
const STATEMENT_TIMEOUT_DEFAULT_SECONDS = 30;
const STATEMENT_TIMEOUT_MAX_SECONDS = 3600;

/**
 * The statement timeout of every dashboard transaction, in milliseconds, from
 * DASHBOARD_STATEMENT_TIMEOUT_SECONDS (whole seconds, 1 to 3600; unset or empty: 30). Without
 * one, a page waited for as long as a lock on its table was held, and each such request kept one
 * of the pool's few connections: a held lock stopped the whole dashboard.
 *
 * @param {string | undefined} value
 * @returns {number}
 */
export function statementTimeoutMs(value) {
  const text = (value ?? "").trim();
  if (text === "") return STATEMENT_TIMEOUT_DEFAULT_SECONDS * 1000;
  const seconds = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= 1 && seconds <= STATEMENT_TIMEOUT_MAX_SECONDS)) {
    throw new Error(
      `DASHBOARD_STATEMENT_TIMEOUT_SECONDS must be a whole number of seconds from 1 to ${STATEMENT_TIMEOUT_MAX_SECONDS}, not "${text}"`,
    );
  }
  return seconds * 1000;
}
