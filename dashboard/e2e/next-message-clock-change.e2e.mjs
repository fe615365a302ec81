#!/usr/bin/env node
// A patient's next reminder is for a dose set at 2:30 on the night the clocks skip from 2:00 to
// 3:00 (it fires at 3:00): the patient page's next-message preview names it "2:30 AM", as the
// send does (before: "3:00 AM", a time the patient never set). In headless Chromium; run by
// tests/dashboard/test_next_message_clock_change_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
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
  log("the patient page's next message");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  const preview = page.getByTestId("next-message");
  await page.getByTestId("next-message-text").waitFor();
  await preview.scrollIntoViewIfNeeded();
  result.text = await text(page.getByTestId("next-message-text"));
  result.source = await text(page.getByTestId("next-message-source"));
  result.section = await text(preview);
  await preview.screenshot({ path: join(SHOTS, "next-message-clock-change.png") });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "next-message-clock-change-failure.png"), fullPage: true }).catch(() => {});
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
