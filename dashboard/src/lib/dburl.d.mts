export interface ConnectionOptions {
  user: string;
  password: string;
  database: string;
  host: string;
  port: number;
  /** Unix-socket file, when the host is a directory. */
  path?: string;
  prepare: boolean;
  ssl: false | "require" | "verify-full";
}

/** Parse a PostgreSQL URL (TCP or libpq's Unix-socket form) into driver options. */
export function connectionOptions(url: string): ConnectionOptions;

/** Milliseconds from DASHBOARD_STATEMENT_TIMEOUT_SECONDS (unset: 30 s); throws naming it when invalid. */
export function statementTimeoutMs(value: string | undefined): number;
