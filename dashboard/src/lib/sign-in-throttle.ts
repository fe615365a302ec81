/**
 * The sign-in throttle's limits and the client address its keys are made from (no server
 * imports, so unit-tested; the counts are kept in PostgreSQL: src/lib/throttle.ts).
 */

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES = 10;

/**
 * The client's address as the proxy in front of the dashboard saw it: the last entry of
 * `X-Forwarded-For`, the one that proxy appended (Heroku's router, nginx or Caddy as
 * docs/operations.md sets them up). The entries before it are whatever the client sent: taking
 * the first, as before, let a client name a new address with every attempt and never be
 * throttled. The Python web process reads the same entry (uvicorn's FORWARDED_ALLOW_IPS).
 */
export function clientAddress(forwardedFor: string | null | undefined): string {
  const entries = (forwardedFor ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  return entries.at(-1) ?? "direct";
}
