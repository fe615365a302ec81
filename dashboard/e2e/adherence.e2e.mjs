#!/usr/bin/env node
// A patient's adherence over 30 days reads the same on the patients list and on their page.
// Found by hand in medremind dev: a patient with six medicines three times a day (18 doses a
// day) read 51% on the list and "270 of 300 doses taken in the last 30 days (90%)" on their
// page, which counted the newest 300 rows of the dose history. Run by
// tests/dashboard/test_adherence_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_ID, PATIENT_NAME, SCREENSHOT_DIR,
// RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("the patients list: adherence over 7 and 30 days");
  const row = page.getByTestId("patient-row").filter({ hasText: env("PATIENT_NAME") });
  const cells = row.locator("td");
  result.list = { days_7: await text(cells.nth(1)), days_30: await text(cells.nth(2)) };
  result.list_caption = await text(page.locator("table caption"));
  log("the patient's page: the chart and its summary");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  result.summary = await text(page.getByTestId("adherence-summary"));
  result.bars = await page.locator(".bars > span").count();
  result.bar_days = await page.locator(".bars > span").evaluateAll((bars) => bars.map((b) => b.getAttribute("title")));
  await page.locator('section[aria-labelledby="adherence-h"]').screenshot({ path: join(SHOTS, "patient-adherence-many-doses.png") });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "adherence-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
