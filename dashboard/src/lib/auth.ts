import "server-only";
import bcrypt from "bcryptjs";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { asClinician, asSignInLookup, isUuid } from "./db";
import { PATH_HEADER, signInPath } from "./return-path";
import { sessionClinicianId } from "./session";
import { supabasePasswordUserId } from "./supabase-auth";

/** The signed-in clinician and their organization, as row-level security lets them see it. */
export interface Clinician {
  id: string;
  displayName: string;
  role: string;
  organizationId: string;
  organizationName: string;
  timezone: string;
}

/** The clinician `id`, read as them (row-level security), or null when there is none. */
export async function loadClinician(id: string): Promise<Clinician | null> {
  return asClinician(id, async (tx) => {
    const rows = await tx<
      { id: string; display_name: string; role: string; organization_id: string; name: string; timezone: string }[]
    >`
      select c.id, c.display_name, c.role, c.organization_id, o.name, o.timezone
        from clinicians c join organizations o on o.id = c.organization_id
       where c.id = auth.uid()`;
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      displayName: row.display_name,
      role: row.role,
      organizationId: row.organization_id,
      organizationName: row.name,
      timezone: row.timezone,
    };
  });
}

/** The clinician of this request's session, or null (no session, or no such clinician now). */
export async function currentClinician(): Promise<Clinician | null> {
  const id = await sessionClinicianId();
  return id && isUuid(id) ? await loadClinician(id) : null;
}

/**
 * The clinician of this request's session, or a redirect to the sign-in page, which returns to
 * the page asked for once signed in (the path the middleware passed on).
 */
export async function requireClinician(): Promise<Clinician> {
  const clinician = await currentClinician();
  if (!clinician) redirect(signInPath((await headers()).get(PATH_HEADER)));
  return clinician;
}

// A real bcrypt hash of a random string: comparing against it when the e-mail is unknown keeps
// the response time the same, so sign-in does not reveal which addresses have accounts.
const DUMMY_HASH = "$2b$10$CwTycUXWue0Thq9StjUM0uJ8.Pp4S0WJ6Y0F0u1kC8c7mJ7xj1QmW";

/**
 * Check an e-mail and password and return the clinician id, or null. With SUPABASE_URL and
 * SUPABASE_ANON_KEY, Supabase Auth checks them; otherwise they are checked against auth.users
 * here (bcrypt, as Supabase Auth stores them). The hash is read as the connection role because nobody is
 * signed in yet; the clinician row is then read under row-level security as that user.
 */
export async function verifyPassword(email: string, password: string): Promise<string | null> {
  const supabaseUrl = process.env.SUPABASE_URL;
  const anonKey = process.env.SUPABASE_ANON_KEY;
  if (supabaseUrl && anonKey) {
    const userId = await supabasePasswordUserId(supabaseUrl, anonKey, email, password);
    if (!userId || !isUuid(userId)) return null;
    const clinician = await loadClinician(userId);
    return clinician ? clinician.id : null;
  }
  const users = await asSignInLookup(
    (sql) => sql<{ id: string; encrypted_password: string | null }[]>`
      select id, encrypted_password from auth.users
       where lower(email) = lower(${email}) limit 1`,
  );
  const user = users[0];
  const hash = user?.encrypted_password ?? DUMMY_HASH;
  const matches = await bcrypt.compare(password, hash);
  if (!user || !user.encrypted_password || !matches) return null;
  const clinician = await loadClinician(user.id);
  return clinician ? clinician.id : null;
}
