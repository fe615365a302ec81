#!/usr/bin/env node
// The waitlist's days and hours say whose they are. Found by hand in medremind dev (a Berlin
// clinic, a patient in New York): every other time on the dashboard is the clinic's and says so
// ("Starts at (Europe/Berlin)"), while From and Until, matched by the planner in the patient's
// timezone, said nothing, nor did the list's Hours. Now the fields are described by a hint and
// the list names the patient's zone. Run by tests/dashboard/test_waitlist_zone_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_NAME, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  await page.goto(`${BASE_URL}/waitlist`);
  log("From and Until are described as the patient's hours");
  const from = page.getByLabel("From", { exact: true });
  const hint = await from.getAttribute("aria-describedby");
  result.from_hint = hint ? await text(page.locator(`#${hint.split(" ").at(-1)}`)) : null;
  log("add a patient in another zone for a night (Until before From); the list names the zone");
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: env("PATIENT_NAME") });
  await from.fill("22:30");
  await page.getByLabel("Until", { exact: true }).fill("03:00");
  await page.getByRole("button", { name: "Add to waitlist" }).click();
  const row = page.getByTestId("waitlist-row").filter({ hasText: env("PATIENT_NAME") });
  await row.waitFor();
  result.hours = (await row.getByTestId("waitlist-hours").innerText()).replace(/\s+/g, " ").trim();
  await page.screenshot({ path: join(SHOTS, "waitlist-patient-zone.png"), fullPage: true });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "waitlist-zone-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
