#!/usr/bin/env node
// Cancelling an appointment asks first. Found using the page in medremind dev: one click on Cancel in
// the Appointments table cancelled it at once, and the planner told the patient within a
// minute; nothing undoes it. Now Cancel asks "Cancel <patient>'s appointment of <when>? ..."
// with Yes, cancel it and Keep it; keyboard only: Enter on Cancel focuses Yes, Keep it
// returns focus to Cancel. Run by tests/dashboard/test_appointment_cancel_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_NAME, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const focused = (page) => page.evaluate(() => (document.activeElement?.textContent ?? "").trim());
const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  await page.goto(`${BASE_URL}/appointments`);
  const row = page.getByTestId("appointment-row").filter({ hasText: env("PATIENT_NAME") });
  const cancel = row.getByRole("button", { name: `Cancel appointment of ${env("PATIENT_NAME")}` });

  log("one click on Cancel asks; the appointment stays");
  await cancel.click();
  await row.getByTestId("cancel-confirm").waitFor();
  await page.waitForTimeout(1500); // what a one-click cancel would have needed to come back
  result.question = await text(row.getByTestId("cancel-confirm").locator("p"));
  result.status_after_one_click = await row.locator("[data-status]").getAttribute("data-status");
  result.focus_on_question = await focused(page);
  await page.screenshot({ path: join(SHOTS, "appointment-cancel-asks.png"), fullPage: true });

  log("keyboard: Keep it returns to Cancel; Enter asks again, Yes cancels");
  await page.keyboard.press("Tab"); // Keep it
  await page.keyboard.press("Enter");
  await cancel.waitFor();
  await page.waitForTimeout(100);
  result.focus_after_keep = await focused(page);
  result.status_after_keep = await row.locator("[data-status]").getAttribute("data-status");
  await page.keyboard.press("Enter"); // Cancel, focused
  await row.getByTestId("cancel-confirm").waitFor();
  await page.waitForTimeout(100);
  await page.keyboard.press("Enter"); // Yes, cancel it
  await row.locator('[data-status="cancelled"]').waitFor();
  result.status_after_yes = "cancelled";
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "appointment-cancel-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
