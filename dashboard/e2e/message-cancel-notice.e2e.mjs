#!/usr/bin/env node
// Edit of a message the clinic wrote keeps what was typed through a refusal and says when it
// is saved; Cancel of a scheduled message says it was done. Found by hand on a running dashboard: after
// Cancel the row just left the pending list with no word (Re-send, Compose and the group send
// each say what they did), so a clinician could not tell a cancelled message from one sent or
// from a click that did nothing. Run by tests/dashboard/test_message_cancel_notice_e2e.py.
//
// The edit is saved at QUIET_TIME (the clinic's wall clock), inside the patient's quiet hours:
// the notice said "goes ... at its time" while the worker held it to their end (found by hand).
// Last, an invite link made on the patient's page names its end in the clinic's zone and theirs
// (it was a bare time on a page whose lists are in two zones).
//
// Then a message to a patient who sent STOP since it was written: an edit due within the refusal
// window is refused naming the time, a later one is saved and said to fail unless they are back.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, MESSAGE_ID, PATIENT_ID, QUIET_TIME,
// STOPPED_MESSAGE_ID, SOON_TIME, LATER_TIME, SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("the pending messages: Edit one (a time past refused, as typed), then change its text");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  const row = page.locator(`[data-testid="message-row"][data-message-id="${env("MESSAGE_ID")}"]`);
  await row.getByRole("link", { name: /^Edit message/ }).click();
  await page.getByTestId("edit-form").waitFor();
  result.edit_for = ((await page.getByTestId("edit-for").textContent()) ?? "").trim();
  await page.getByLabel("Message").fill("The new text, {{ patient_name }}");
  await page.locator("#local_time").fill("2001-01-01T09:00");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByTestId("edit-error").waitFor();
  result.edit_refusal = ((await page.getByTestId("edit-error").textContent()) ?? "").trim();
  result.kept_text = await page.getByLabel("Message").inputValue();
  await page.screenshot({ path: join(SHOTS, "message-edit-refused.png") });
  await page.locator("#local_time").fill(env("QUIET_TIME"));
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByTestId("edited-notice").waitFor();
  result.edited_notice = ((await page.getByTestId("edited-notice").textContent()) ?? "").trim();
  await page.screenshot({ path: join(SHOTS, "message-edited.png") });
  log("Edit a message to a patient who sent STOP since: soon refused naming the time, later said");
  // STOPPED_MESSAGE_ID's patient opted out of their only channel: an edit that left it due
  // within the refusal window was saved, and the message then failed unsent at once.
  await page.goto(`${BASE_URL}/messages/${env("STOPPED_MESSAGE_ID")}/edit`);
  await page.getByTestId("edit-form").waitFor();
  await page.getByLabel("Message").fill("Please call us");
  await page.locator("#local_time").fill(env("SOON_TIME"));
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByTestId("edit-error").waitFor();
  result.stopped_refusal = ((await page.getByTestId("edit-error").textContent()) ?? "").trim();
  result.stopped_time_invalid = await page.locator("#local_time").getAttribute("aria-invalid");
  await page.screenshot({ path: join(SHOTS, "message-edit-unreachable.png"), fullPage: true });
  await page.locator("#local_time").fill(env("LATER_TIME"));
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByTestId("edited-notice").waitFor();
  result.stopped_notice = ((await page.getByTestId("edited-notice").textContent()) ?? "").trim();
  log("Cancel it");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  result.row_text = ((await row.locator(".message-text").textContent()) ?? "").trim();
  await row.getByRole("button", { name: /^Cancel message/ }).click();
  await row.waitFor({ state: "detached" });
  result.url = page.url();
  const notice = page.getByTestId("cancelled-notice");
  result.notice = (await notice.count()) > 0 ? ((await notice.textContent()) ?? "").trim() : null;
  result.notice_role = (await notice.count()) > 0 ? await notice.getAttribute("role") : null;
  await page.screenshot({ path: join(SHOTS, "message-cancel-notice.png") });
  log("an invite link from the patient's page says until when, in both zones");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  await page.getByRole("button", { name: "Make an invite link" }).click();
  result.invite_expires = ((await page.getByTestId("invite-expires").textContent()) ?? "").trim();
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "message-cancel-notice-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
