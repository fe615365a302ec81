"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { loadClinician, verifyPassword } from "@/lib/auth";
import { returnPath } from "@/lib/return-path";
import { endSession, startSession } from "@/lib/session";
import { clientKey, trustedProxies } from "@/lib/client-address";
import { clearFailures, isThrottled, recordFailure } from "@/lib/throttle";
import { sqlState } from "@/lib/errors";

// SQLSTATE query_canceled: a statement the statement timeout stopped (src/lib/db.ts).
const STATEMENT_TIMEOUT_STATE = "57014";

/** What the sign-in form shows after a refused attempt: the reason and the e-mail as typed. */
export interface SignInState {
  error?: "credentials" | "throttled" | "too_long" | "busy";
  email?: string;
}

// Longer than any real address (RFC 5321: 254) or passphrase: refused before any lookup or hash.
const MAX_EMAIL = 320;
const MAX_PASSWORD = 1024;

/**
 * The clinician an e-mail and password sign in, or why not (the e-mail as typed, never the
 * password). Throttled per e-mail and per client address.
 */
async function checkSignIn(formData: FormData): Promise<{ clinicianId: string } | SignInState> {
  try {
    return await checkCredentials(formData);
  } catch (error) {
    // A table of the sign-in held past the statement timeout (a migration, a stuck transaction):
    // said on the form, the e-mail kept, instead of an error page that loses it. Nothing counted.
    if (sqlState(error) === STATEMENT_TIMEOUT_STATE) return { error: "busy", email: String(formData.get("email") ?? "").slice(0, MAX_EMAIL) };
    throw error;
  }
}

/** {@link checkSignIn} without the answer to a timed-out lookup. */
async function checkCredentials(formData: FormData): Promise<{ clinicianId: string } | SignInState> {
  const typed = String(formData.get("email") ?? "");
  const password = String(formData.get("password") ?? "");
  if (typed.length > MAX_EMAIL || password.length > MAX_PASSWORD) {
    return { error: "too_long", email: typed.slice(0, MAX_EMAIL) };
  }
  // No clinician's e-mail holds a control character, and PostgreSQL's text holds no NUL (the
  // throttle's lookup failed the page): refused as any unknown address, before any lookup.
  if (/[\u0000-\u001f\u007f]/.test(typed)) return { error: "credentials", email: typed.replace(/[\u0000-\u001f\u007f]/g, "") };
  const email = typed.trim().toLowerCase();
  // An IPv6 client counts as its /64, an IPv4-mapped one as its IPv4 address (client-address.ts).
  const client = clientKey((await headers()).get("x-forwarded-for"), trustedProxies());
  const keys = [`email:${email}`, `client:${client}`];
  if (await isThrottled(keys)) return { error: "throttled", email: typed };
  const clinicianId = email && password ? await verifyPassword(email, password) : null;
  if (!clinicianId) {
    await recordFailure(keys);
    return { error: "credentials", email: typed };
  }
  await clearFailures([`email:${email}`]);
  return { clinicianId };
}

/**
 * Sign in with e-mail and password. A refusal comes back to the form (not a redirect) with the
 * e-mail as the clinician typed it, so they fix the password instead of typing both again; the
 * password is never sent back. The message does not say which of the two was wrong. Signed in,
 * the clinician goes back to the page they asked for (`next`, a path of this site only).
 */
export async function signIn(_previous: SignInState, formData: FormData): Promise<SignInState> {
  const checked = await checkSignIn(formData);
  if (!("clinicianId" in checked)) return checked;
  await startSession(checked.clinicianId);
  redirect(returnPath(formData.get("next")));
}

/** What signing in again on the page (components/SessionGuard.tsx) answers. */
export interface ResumeState extends SignInState {
  /** Signed in again: the clinician's name, which the page shows. */
  signedInAs?: string;
}

/**
 * Sign in again without leaving the page, after the session ended while a form was being filled
 * in: the page keeps what was typed, and its Save works again. The same checks and throttle as
 * the sign-in page.
 */
export async function resumeSession(_previous: ResumeState, formData: FormData): Promise<ResumeState> {
  const checked = await checkSignIn(formData);
  if (!("clinicianId" in checked)) return checked;
  await startSession(checked.clinicianId);
  return { signedInAs: (await loadClinician(checked.clinicianId))?.displayName ?? "" };
}

/** End the session. */
export async function signOut(): Promise<void> {
  await endSession();
  redirect("/login");
}
