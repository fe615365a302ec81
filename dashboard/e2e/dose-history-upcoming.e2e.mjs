#!/usr/bin/env node
// A patient's dose history tells doses not due yet from doses due and unanswered. Found by hand
// on a running dashboard: tomorrow's doses read "due", so a clinician took a dose that could not
// have been taken yet for one the patient had not answered. Run by
// tests/dashboard/test_dose_history_upcoming_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("the patient's page: the dose history's rows");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  const section = page.locator('section[aria-labelledby="doses-h"]');
  result.rows = await section.locator("tbody tr").evaluateAll((rows) =>
    rows.map((r) => {
      const cells = [...r.querySelectorAll("td")].map((c) => (c.textContent ?? "").replace(/\s+/g, " ").trim());
      return { due: cells[0], medication: cells[1], status: cells[2] };
    }),
  );
  result.headers = await section.locator("thead th").allTextContents();
  await section.screenshot({ path: join(SHOTS, "patient-dose-history-upcoming.png") });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "dose-history-upcoming-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
