#!/usr/bin/env node
// A dose's reminders name their medicine on the Scheduled messages list and the patient's page.
// Found by hand in medremind dev: a patient with two medicines at 08:00 had two rows "medication
// reminder" at the same minute, which read as a duplicate to cancel; and an Arabic medicine's
// dose read "850 · <name> mg" on the patient's page. Run by
// tests/dashboard/test_messages_medicine_e2e.py.
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
  log("the Scheduled messages list");
  await page.goto(`${BASE_URL}/messages`);
  result.list = (await page.getByTestId("message-kind").allTextContents()).map((t) => t.trim()).sort();
  await page.screenshot({ path: join(SHOTS, "messages-medicine.png"), fullPage: true });
  log("the patient's page");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  // An Arabic medicine's Latin dose stays one piece: its number beside its unit.
  result.dose_gap = await page.evaluate(() => {
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf("850 mg");
      if (at < 0) continue;
      const rect = (from, to) => {
        const range = document.createRange();
        range.setStart(node, from);
        range.setEnd(node, to);
        return range.getBoundingClientRect();
      };
      return Math.round(rect(at + 4, at + 6).left - rect(at, at + 3).right);
    }
    return null;
  });
  result.timeline_all = (await page.getByTestId("message").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim()).sort();
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "messages-medicine-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
