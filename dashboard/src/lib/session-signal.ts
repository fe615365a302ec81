"use client";

import { useEffect } from "react";
import { SESSION_ENDED } from "./form-state";

/**
 * A session that ended while a page was open (12 hours passed, or a sign-out in another tab).
 * The page must keep what the clinician typed: a server action then refuses with
 * {@link SESSION_ENDED} and the values as typed instead of redirecting to the sign-in page, the
 * page's auto-refresh stops instead of being redirected there, and SessionGuard (in the layout)
 * asks for the password in the page itself. Nothing typed is stored anywhere for this: it stays
 * in the page.
 */

const EVENT = "medremind:session-ended";

/** Tell the page's SessionGuard that the session has ended. */
export function announceSessionEnded(): void {
  window.dispatchEvent(new Event(EVENT));
}

/** Call `listener` whenever a part of the page finds the session ended; returns the unsubscribe. */
export function onSessionEnded(listener: () => void): () => void {
  window.addEventListener(EVENT, listener);
  return () => window.removeEventListener(EVENT, listener);
}

/**
 * Whether the browser's session cookie is still a valid session (`GET /session`). A network
 * failure is not an ended session: the caller goes on as before.
 */
export async function sessionAlive(): Promise<boolean> {
  try {
    const response = await fetch("/session", { cache: "no-store", credentials: "same-origin" });
    return response.status !== 401;
  } catch {
    return true;
  }
}

/** In a form: when its action answered that the session had ended, tell the page. */
export function useSessionEndedAnswer(error: string | undefined | null): void {
  useEffect(() => {
    if (error === SESSION_ENDED) announceSessionEnded();
  }, [error]);
}
