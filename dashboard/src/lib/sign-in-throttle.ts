/**
 * The sign-in throttle's bookkeeping (no server imports, so unit-tested): failed attempts per
 * key in a sliding window, and the client address a key is made from.
 */

export const WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES = 10;
// Keys held at most (each a few timestamps: ~10 MB at the bound). Past it the keys whose window
// has passed go first, then the least recently failed. Clearing every key at 10,000 (as before)
// let anyone reset a victim's count by failing with 10,000 other addresses.
export const MAX_KEYS = 100_000;

/** Failed attempts per key within {@link WINDOW_MS}, oldest-failed keys first in the map. */
export class FailureWindow {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxKeys = MAX_KEYS,
    private readonly windowMs = WINDOW_MS,
    private readonly maxFailures = MAX_FAILURES,
  ) {}

  get size(): number {
    return this.failures.size;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
  }

  /** Whether any of `keys` has used up its failed attempts. */
  isThrottled(keys: string[], now: number): boolean {
    return keys.some((key) => this.recent(key, now).length >= this.maxFailures);
  }

  /** Record a failed attempt for each of `keys` (a key failed again moves to the back). */
  recordFailure(keys: string[], now: number): void {
    for (const key of keys) {
      const kept = this.recent(key, now);
      this.failures.delete(key);
      // No more than the limit is kept: a key at it is refused before it can fail again.
      this.failures.set(key, [...kept, now].slice(-this.maxFailures));
    }
    if (this.failures.size > this.maxKeys) this.evict(now);
  }

  /** Forget the failures of `keys` (a successful sign-in). */
  clear(keys: string[]): void {
    for (const key of keys) this.failures.delete(key);
  }

  private evict(now: number): void {
    for (const [key, times] of this.failures) {
      if (times.every((t) => now - t >= this.windowMs)) this.failures.delete(key);
    }
    // Still over: the keys that failed longest ago (the map keeps them first).
    for (const key of this.failures.keys()) {
      if (this.failures.size <= this.maxKeys) break;
      this.failures.delete(key);
    }
  }
}

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
