#!/usr/bin/env node
// Re-send of a failed priority-0 message when the clinic's hourly share of priority 0 is taken
// (MEDREMIND_API_PRIORITY_ZERO_PER_HOUR, migration 20260101017650): the copy is made at the
// default priority, and the notice says it goes after the dose reminders due with it, and why.
// Then a failed message at the default priority: the plain notice. Run by
// tests/dashboard/test_resend_priority_share_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
try {
  const page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const name of ["share", "plain"]) {
    log(`re-send of the ${name === "share" ? "priority-0" : "routine"} failed message`);
    await page.goto(`${BASE_URL}/messages?status=failed`);
    const row = page.getByRole("row").filter({ hasText: name === "share" ? "Recall" : "Routine" });
    await row.getByRole("button", { name: /^Re-send/ }).click();
    await page.getByTestId("resent-notice").waitFor();
    result[name] = ((await page.getByTestId("resent-notice").textContent()) ?? "").replace(/\s+/g, " ").trim();
    await page.screenshot({ path: join(SHOTS, `resend-priority-share-${name}.png`), fullPage: false });
  }
} finally {
  await browser.close();
}
writeFileSync(env("RESULT_FILE"), JSON.stringify(result));
