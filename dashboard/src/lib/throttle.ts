import "server-only";
import { FailureWindow } from "./sign-in-throttle";

/**
 * Sign-in throttling: at most MAX_FAILURES failed attempts per e-mail address (and per client
 * address) in WINDOW_MS (src/lib/sign-in-throttle.ts); further attempts are refused without
 * checking the password until the window passes. In memory, so per dashboard process: it slows
 * guessing, it is not a lockout, and N dashboard processes allow N times the attempts.
 */
const failures = new FailureWindow();

/** Whether any of `keys` has used up its failed attempts. */
export function isThrottled(keys: string[], now = Date.now()): boolean {
  return failures.isThrottled(keys, now);
}

/** Record a failed attempt for each of `keys`. */
export function recordFailure(keys: string[], now = Date.now()): void {
  failures.recordFailure(keys, now);
}

/** Forget the failures of `keys` after a successful sign-in. */
export function clearFailures(keys: string[]): void {
  failures.clear(keys);
}
