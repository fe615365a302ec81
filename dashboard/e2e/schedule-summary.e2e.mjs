#!/usr/bin/env node
// A patient's medicines as the clinician reads them: a course imported with a FHIR count says
// how many doses it holds (it read "every day" with no end, as if the reminders went on), and a
// schedule on chosen weekdays of every Nth day names both. Run by
// tests/dashboard/test_schedule_summary_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
try {
  const page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("the patient's medicines");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  const schedules = page.getByTestId("schedule");
  await schedules.first().waitFor();
  result.schedules = (await schedules.allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
  await schedules.first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "schedule-summary.png"), fullPage: false });
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
