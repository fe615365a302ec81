#!/usr/bin/env node
// The waitlist form's refusals say what is wrong. Before, every refusal of the database read as
// "already on the waitlist": an invited patient was added (and never offered a slot), and a note
// holding a NUL (PostgreSQL's text holds none) was "already on the waitlist". Run by
// tests/dashboard/test_waitlist_refusals_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, INVITED_NAME, PATIENT_NAME, SCREENSHOT_DIR,
// RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;

/**
 * Choose `name`, type `note` (set as the value, so a NUL gets through), add; the error shown, or
 * null once `name` is listed (`listed`: they were before, so only an error can answer).
 */
async function add(name, note, listed = false) {
  await page.goto(`${BASE_URL}/waitlist`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: name });
  await forge(page.getByLabel("Note", { exact: true }), note);
  await page.getByRole("button", { name: "Add to waitlist" }).click();
  const error = page.getByTestId("waitlist-error");
  const row = page.getByTestId("waitlist-row").filter({ hasText: name });
  await (listed ? error.waitFor() : Promise.race([error.waitFor(), row.waitFor()]));
  return (await error.count()) > 0 ? (await error.innerText()).trim() : null;
}

try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("an invited patient is refused, naming the invite link");
  result.invited = await add(env("INVITED_NAME"), "");
  result.invited_field = await page.getByLabel("Patient", { exact: true }).getAttribute("aria-invalid");
  await page.screenshot({ path: join(SHOTS, "waitlist-invited.png"), fullPage: true });
  log("a note holding a NUL is refused, naming Note");
  result.nul_note = await add(env("PATIENT_NAME"), "Mornings\u0000 only");
  result.nul_field = await page.getByLabel("Note", { exact: true }).getAttribute("aria-invalid");
  log("added, then added again: already on the waitlist");
  result.added = await add(env("PATIENT_NAME"), "Mornings only");
  result.again = await add(env("PATIENT_NAME"), "Mornings only", true);
  await page.goto(`${BASE_URL}/waitlist`);
  result.rows = await page.getByTestId("waitlist-row").count();
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "waitlist-refusals-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
