"use server";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { verifyPassword } from "@/lib/auth";
import { endSession, startSession } from "@/lib/session";
import { clearFailures, isThrottled, recordFailure } from "@/lib/throttle";

/** Sign in with e-mail and password; on failure back to the form with a generic error. */
export async function signIn(formData: FormData): Promise<void> {
  const email = String(formData.get("email") ?? "").trim().toLowerCase();
  const password = String(formData.get("password") ?? "");
  const client = (await headers()).get("x-forwarded-for")?.split(",")[0]?.trim() || "direct";
  const keys = [`email:${email}`, `client:${client}`];
  if (isThrottled(keys)) redirect("/login?error=throttled");
  const clinicianId = email && password ? await verifyPassword(email, password) : null;
  if (!clinicianId) {
    recordFailure(keys);
    redirect("/login?error=1");
  }
  clearFailures([`email:${email}`]);
  await startSession(clinicianId);
  redirect("/patients");
}

/** End the session. */
export async function signOut(): Promise<void> {
  await endSession();
  redirect("/login");
}
