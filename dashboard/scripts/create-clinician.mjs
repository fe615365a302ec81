#!/usr/bin/env node
// Create (or update) a clinician for local use and tests, where Supabase Auth is not configured:
//   DATABASE_URL=... npm run create-clinician -- --email a@b.c --password secret --org-name "Clinic"
// Creates the organization if no organization has that name, the auth.users row (bcrypt hash, as
// Supabase Auth stores it) and the clinicians row. Runs as the DATABASE_URL role (an operator's).
// Prints one JSON line with the ids; never the password.
import { parseArgs } from "node:util";
import bcrypt from "bcryptjs";
import postgres from "postgres";
import { connectionOptions } from "../src/lib/dburl.mjs";

const { values } = parseArgs({
  options: {
    email: { type: "string" },
    password: { type: "string" },
    "org-name": { type: "string" },
    "display-name": { type: "string" },
    timezone: { type: "string" },
    role: { type: "string", default: "clinician" },
  },
});
const email = values.email?.trim().toLowerCase();
const password = values.password;
const orgName = values["org-name"]?.trim();
if (!email || !password || !orgName) {
  console.error("usage: create-clinician --email E --password P --org-name N [--display-name D] [--timezone TZ] [--role clinician|admin]");
  process.exit(2);
}
if (password.length < 8) {
  console.error("create-clinician: the password must have at least 8 characters");
  process.exit(2);
}
if (!process.env.DATABASE_URL) {
  console.error("create-clinician: DATABASE_URL is not set");
  process.exit(2);
}

const o = connectionOptions(process.env.DATABASE_URL);
const sql = postgres({
  host: o.host,
  port: o.port,
  path: o.path,
  database: o.database,
  username: o.user,
  password: o.password,
  ssl: o.ssl,
  prepare: o.prepare,
  max: 1,
  onnotice: () => undefined,
});

try {
  const hash = await bcrypt.hash(password, 10);
  const result = await sql.begin(async (tx) => {
    let [org] = await tx`select id from organizations where name = ${orgName} order by created_at limit 1`;
    if (!org) {
      [org] = await tx`
        insert into organizations (name, timezone) values (${orgName}, ${values.timezone ?? "UTC"})
        returning id`;
    }
    const [user] = await tx`
      insert into auth.users (email, encrypted_password, email_confirmed_at)
      values (${email}, ${hash}, now())
      on conflict (email) do update
        set encrypted_password = excluded.encrypted_password, updated_at = now()
      returning id`;
    await tx`
      insert into clinicians (id, organization_id, display_name, role)
      values (${user.id}, ${org.id}, ${values["display-name"] ?? email.split("@")[0]}, ${values.role})
      on conflict (id) do update
        set organization_id = excluded.organization_id, display_name = excluded.display_name,
            role = excluded.role`;
    return { clinician_id: user.id, organization_id: org.id };
  });
  console.log(JSON.stringify(result));
} finally {
  await sql.end({ timeout: 5 });
}
