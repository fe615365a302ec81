"use server";

import { redirect } from "next/navigation";
import { verifyPassword } from "@/lib/auth";
import { endSession, startSession } from "@/lib/session";

/** Sign in with e-mail and password; on failure back to the form with a generic error. */
export async function signIn(formData: FormData): Promise<void> {
  const email = String(formData.get("email") ?? "").trim();
  const password = String(formData.get("password") ?? "");
  const clinicianId = email && password ? await verifyPassword(email, password) : null;
  if (!clinicianId) redirect("/login?error=1");
  await startSession(clinicianId);
  redirect("/patients");
}

/** End the session. */
export async function signOut(): Promise<void> {
  await endSession();
  redirect("/login");
}
