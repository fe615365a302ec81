#!/usr/bin/env node
// Fail when the built client bundle (.next/static) holds anything that must stay on the server:
// a database URL, the Supabase service_role key or its name, a password, the session secret or
// the MedRemind API key (its name, and its value when set).
// Run after `npm run build`; exits 1 on a finding, 2 when there is no build.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectionOptions } from "../src/lib/dburl.mjs";

const root = fileURLToPath(new URL("../.next/static", import.meta.url));

/** @type {{ name: string; test: (text: string) => boolean }[]} */
const checks = [
  { name: "a postgres:// URL", test: (t) => /postgres(?:ql)?:\/\/[^\s"'`]+/i.test(t) },
  { name: "the name DATABASE_URL", test: (t) => t.includes("DATABASE_URL") },
  { name: "service_role", test: (t) => /service_role/i.test(t) },
  { name: "the name DASHBOARD_SESSION_SECRET", test: (t) => t.includes("DASHBOARD_SESSION_SECRET") },
  { name: "the name MEDREMIND_API_KEY", test: (t) => t.includes("MEDREMIND_API_KEY") },
  { name: "a Supabase key variable", test: (t) => /SUPABASE_SERVICE_ROLE|SUPABASE_JWT_SECRET/.test(t) },
  { name: "a bcrypt hash", test: (t) => /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/.test(t) },
  { name: "encrypted_password", test: (t) => t.includes("encrypted_password") },
  { name: "a signed JWT", test: (t) => /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./.test(t) },
];

// The values in this environment, when set, must not appear either.
const secretValues = [];
for (const name of ["DATABASE_URL", "DASHBOARD_SESSION_SECRET", "SUPABASE_SERVICE_ROLE_KEY", "MEDREMIND_API_KEY"]) {
  const value = process.env[name];
  if (value && value.length >= 8) secretValues.push({ name: `the value of ${name}`, value });
}
if (process.env.DATABASE_URL) {
  try {
    const { password } = connectionOptions(process.env.DATABASE_URL);
    if (password.length >= 4) secretValues.push({ name: "the database password", value: password });
  } catch {
    // Not a URL we can parse: the whole value is still checked above.
  }
}

function* files(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

let scanned = 0;
const findings = [];
try {
  statSync(root);
} catch {
  console.error("check-bundle: no .next/static; run `npm run build` first");
  process.exit(2);
}
for (const path of files(root)) {
  const text = readFileSync(path, "utf8");
  scanned += 1;
  for (const check of checks) {
    if (check.test(text)) findings.push(`${path}: ${check.name}`);
  }
  for (const secret of secretValues) {
    if (text.includes(secret.value)) findings.push(`${path}: ${secret.name}`);
  }
}
if (scanned === 0) {
  console.error("check-bundle: .next/static is empty");
  process.exit(2);
}
if (findings.length > 0) {
  console.error(`check-bundle: server-only material in the client bundle:\n  ${findings.join("\n  ")}`);
  process.exit(1);
}
console.log(`check-bundle: ${scanned} client files clean`);
