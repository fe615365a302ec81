#!/usr/bin/env node
// A Telegram caregiver typed in before caregiver links (migration 20260101014300) on the
// patient's page, in headless Chromium: what the clinician reads about their alerts, for each
// state of the link the patient is sent (not sent yet, sent, expired unopened), and the alert not
// sent in the patient's messages. Run by tests/dashboard/test_caregiver_awaits_link_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENTS (JSON: {label: patient id}),
// SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, env, launch, log, SHOTS, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const [label, id] of Object.entries(JSON.parse(env("PATIENTS")))) {
    await page.goto(`${BASE_URL}/patients/${id}`);
    const caregivers = page.locator("section[aria-labelledby=caregivers-h]");
    await caregivers.waitFor();
    result[label] = {
      caregivers: (await caregivers.locator("li").allTextContents()).map((t) => t.trim()),
      awaits: (await page.getByTestId("caregiver-awaits-link").allTextContents()).map((t) => t.trim()),
      messages: (await page.getByTestId("message").allTextContents()).map((t) => t.trim()),
    };
    await caregivers.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, `caregiver-awaits-link-${label}.png`), fullPage: true });
    log(`patient ${label}`);
  }
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "caregiver-awaits-link-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
