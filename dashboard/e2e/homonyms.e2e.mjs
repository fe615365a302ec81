#!/usr/bin/env node
// Patients who share a name (two "Maria Garcia", one registered twice): the pickers of Compose,
// Appointments and the Waitlist listed each by name alone, so "Maria Garcia" twice, and a
// clinician chose one patient's message or appointment for the other. Each now says what tells
// them apart (external id, else a masked contact, else the start of the record's id). Run by
// tests/dashboard/test_homonyms_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
try {
  const page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const [form, path, select] of [
    ["compose", "/messages/new", "#patient_id"],
    ["appointment", "/appointments", "#appt-patient"],
    ["waitlist", "/waitlist", "#wl-patient"],
  ]) {
    log(`the ${form} picker`);
    await page.goto(`${BASE_URL}${path}`);
    const options = page.locator(`${select} option`);
    result[form] = (await options.allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
    await page.screenshot({ path: join(SHOTS, `homonyms-${form}.png`), fullPage: false });
  }
} finally {
  await browser.close();
}
writeFileSync(env("RESULT_FILE"), JSON.stringify(result));
