#!/usr/bin/env node
// Cancel of a scheduled message says it was done. Found by hand on a running dashboard: after
// Cancel the row just left the pending list with no word (Re-send, Compose and the group send
// each say what they did), so a clinician could not tell a cancelled message from one sent or
// from a click that did nothing. Run by tests/dashboard/test_message_cancel_notice_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, MESSAGE_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("the pending messages: Cancel one");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  const row = page.locator(`[data-testid="message-row"][data-message-id="${env("MESSAGE_ID")}"]`);
  await row.getByRole("button", { name: /^Cancel message/ }).click();
  await row.waitFor({ state: "detached" });
  result.url = page.url();
  const notice = page.getByTestId("cancelled-notice");
  result.notice = (await notice.count()) > 0 ? ((await notice.textContent()) ?? "").trim() : null;
  result.notice_role = (await notice.count()) > 0 ? await notice.getAttribute("role") : null;
  await page.screenshot({ path: join(SHOTS, "message-cancel-notice.png") });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "message-cancel-notice-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
