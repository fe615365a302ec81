"use client";

import { usePathname } from "next/navigation";
import { useActionState, useEffect, useRef, useState } from "react";
import type { ResumeState } from "@/app/login/actions";
import { onSessionEnded, sessionAlive } from "@/lib/session-signal";
import { SIGN_IN_REFUSED } from "@/lib/sign-in-messages";

interface Props {
  action: (previous: ResumeState, formData: FormData) => Promise<ResumeState>;
}

/**
 * Sign-in on the page itself, shown once the session has ended (a form's Save answered so, the
 * page's refresh found it, or the tab came back into view after it). Going to the sign-in page
 * lost what the clinician had typed; here the page and its forms stay as they are, nothing is
 * saved meanwhile, and once signed in again the clinician presses Save again. Nothing typed is
 * stored anywhere for this (no address, no browser storage, no log): it stays in the page.
 */
export function SessionGuard({ action }: Props) {
  const [ended, setEnded] = useState(false);
  const [state, formAction, pending] = useActionState(action, {});
  const [resumed, setResumed] = useState<ResumeState | null>(null);
  const email = useRef<HTMLInputElement>(null);
  const path = usePathname();
  // The notice is about the page it was signed in on.
  useEffect(() => setResumed(null), [path]);
  useEffect(() => {
    const unsubscribe = onSessionEnded(() => setEnded(true));
    // A tab left open past the session's end: said when it is looked at again, before a Save.
    const look = async () => {
      if (document.visibilityState === "visible" && !(await sessionAlive())) setEnded(true);
    };
    document.addEventListener("visibilitychange", look);
    return () => {
      unsubscribe();
      document.removeEventListener("visibilitychange", look);
    };
  }, []);
  useEffect(() => {
    if (state.signedInAs !== undefined) {
      setEnded(false);
      setResumed(state);
    }
  }, [state]);
  useEffect(() => {
    // To the password box after a Save, not from a field being typed in (the refresh found it).
    const typing = document.activeElement?.matches("input, textarea, select") ?? false;
    if (ended && !typing) email.current?.focus();
  }, [ended]);
  if (!ended) {
    return resumed ? (
      <p role="status" className="notice" data-testid="session-resumed">
        Signed in again{resumed.signedInAs ? ` as ${resumed.signedInAs}` : ""}. Nothing was saved while you were
        signed out: press the form&apos;s button again.
      </p>
    ) : null;
  }
  return (
    <section className="panel session-ended" aria-labelledby="session-ended-h" data-testid="session-ended">
      <h2 id="session-ended-h">Your session has ended</h2>
      <p role="alert">
        Nothing can be saved and this page has stopped updating until you sign in again here. What you typed on this
        page stays as it is.
      </p>
      {state.error ? (
        <p role="alert" className="alert" id="resume-error">
          {SIGN_IN_REFUSED[state.error]}
        </p>
      ) : null}
      <form action={formAction} className="row">
        <div className="field">
          <label htmlFor="resume-email">E-mail</label>
          <input
            ref={email}
            id="resume-email"
            name="email"
            type="email"
            autoComplete="username"
            required
            maxLength={320}
            defaultValue={state.email ?? ""}
            key={`resume-email-${state.email ?? ""}`}
          />
        </div>
        <div className="field">
          <label htmlFor="resume-password">Password</label>
          <input id="resume-password" name="password" type="password" autoComplete="current-password" required maxLength={1024} />
        </div>
        <button type="submit" disabled={pending}>
          {pending ? "Signing in…" : "Sign in again"}
        </button>
      </form>
    </section>
  );
}
