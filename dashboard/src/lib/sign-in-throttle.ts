/**
 * The sign-in throttle's limits (no server imports; the counts are kept in PostgreSQL:
 * src/lib/throttle.ts; the client key is src/lib/client-address.ts).
 */

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES = 10;
