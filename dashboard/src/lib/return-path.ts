/**
 * Where sign-in sends a clinician afterwards: the dashboard page they were sent away from (a
 * bookmark, a link to a patient, a session that expired after 12 hours), carried as `?next=` on
 * the sign-in page. Only a path of this site is followed, never another origin: `next` comes
 * from the address bar, so anyone can write it.
 */

/** The request header the middleware (src/middleware.ts) sets to the requested path and query. */
export const PATH_HEADER = "x-medremind-path";

export const HOME = "/patients";
const MAX_LENGTH = 2000;

/** `value` if it is a path of this site worth returning to, else the patient list. */
export function returnPath(value: unknown): string {
  if (typeof value !== "string" || value.length > MAX_LENGTH) return HOME;
  // One leading slash, then not a second slash or backslash ("//host" and "/\\host" are other
  // origins to a browser), no control characters (a browser drops tabs and newlines in URLs).
  if (!/^\/(?![/\\])/.test(value) || /[\u0000-\u001f\u007f\\]/.test(value)) return HOME;
  const path = value.split(/[?#]/, 1)[0] ?? "";
  if (path === "/" || path === "/login" || path.startsWith("/login/")) return HOME;
  return value;
}

/** The sign-in page's address that returns to `path` afterwards (no `next` for the home page). */
export function signInPath(path: string | null): string {
  const target = returnPath(path);
  return target === HOME ? "/login" : `/login?next=${encodeURIComponent(target)}`;
}
