import "server-only";
import { SignJWT, jwtVerify } from "jose";
import { cookies } from "next/headers";

/** The signed, httpOnly session cookie that carries the clinician's auth.users id. */

const COOKIE = "medremind_session";
const LIFETIME_SECONDS = 12 * 60 * 60;

function secret(): Uint8Array {
  const value = process.env.DASHBOARD_SESSION_SECRET;
  if (!value || value.length < 32) {
    throw new Error("DASHBOARD_SESSION_SECRET must be set to at least 32 characters");
  }
  return new TextEncoder().encode(value);
}

function secureCookies(): boolean {
  // Secure by default; plain-http local runs and the browser tests set DASHBOARD_COOKIE_SECURE=false.
  return process.env.DASHBOARD_COOKIE_SECURE !== "false";
}

/** Sign a session for `clinicianId` and set it as a cookie (server actions only). */
export async function startSession(clinicianId: string): Promise<void> {
  const token = await new SignJWT({ role: "authenticated" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(clinicianId)
    .setIssuedAt()
    .setExpirationTime(`${LIFETIME_SECONDS}s`)
    .sign(secret());
  (await cookies()).set(COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: secureCookies(),
    path: "/",
    maxAge: LIFETIME_SECONDS,
  });
}

/** The clinician id of a valid session cookie, or null. */
export async function sessionClinicianId(): Promise<string | null> {
  const token = (await cookies()).get(COOKIE)?.value;
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, secret(), { algorithms: ["HS256"] });
    return typeof payload.sub === "string" ? payload.sub : null;
  } catch {
    return null;
  }
}

/** Remove the session cookie (server actions only). */
export async function endSession(): Promise<void> {
  (await cookies()).delete(COOKIE);
}
