import "server-only";

/**
 * Sign-in throttling: at most MAX_FAILURES failed attempts per e-mail address (and per client
 * address) in WINDOW_MS; further attempts are refused without checking the password until the
 * window passes. In memory, so per dashboard process: it slows guessing, it is not a lockout.
 */
const WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES = 10;
const MAX_KEYS = 10_000;

const failures = new Map<string, number[]>();

function recent(key: string, now: number): number[] {
  const kept = (failures.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
  if (kept.length > 0) failures.set(key, kept);
  else failures.delete(key);
  return kept;
}

/** Whether any of `keys` has used up its failed attempts. */
export function isThrottled(keys: string[], now = Date.now()): boolean {
  return keys.some((key) => recent(key, now).length >= MAX_FAILURES);
}

/** Record a failed attempt for each of `keys`. */
export function recordFailure(keys: string[], now = Date.now()): void {
  if (failures.size > MAX_KEYS) failures.clear(); // bounded memory under a flood
  for (const key of keys) failures.set(key, [...recent(key, now), now]);
}

/** Forget the failures of `keys` after a successful sign-in. */
export function clearFailures(keys: string[]): void {
  for (const key of keys) failures.delete(key);
}
