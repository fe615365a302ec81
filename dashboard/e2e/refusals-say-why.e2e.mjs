#!/usr/bin/env node
// What the dashboard says when it refuses, found using it last session:
// - Compose: a text pasted over 4,096 characters was cut at the limit by the textarea's maxLength
//   without a word, and the cut text was sent. Now the whole text stays, the form says how long it
//   is and how much to cut, and Send is refused naming Message: nothing is inserted.
// - Scheduled messages: Cancel and Send now with another clinic's message id (a forged form) said
//   "no longer pending", telling the clinician that id exists; Appointments' Cancel with another
//   clinic's appointment id said "already closed". Now each says "not found".
// - Waitlist: Remove with another clinic's entry id said "already closed" (found this session):
//   "not found" too.
// Run by tests/dashboard/test_refusals_say_why_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, PATIENT_NAME, OTHER_MESSAGE_ID, OTHER_APPOINTMENT_ID,
// OTHER_WAITLIST_ID, SCREENSHOT_DIR,
// RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

/** Put another clinic's id (`name`: its variable) into every form of the row (browser.mjs: once
 * hydrated; a forge written before was reset to the row's own id, which then cancelled the real
 * message: no alert, one CI run on a loaded host). */
const forgeRow = (row, name = "OTHER_MESSAGE_ID") => forge(row.locator('input[name="id"]'), env(name));

try {
  page = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));

  log("Compose: a pasted text of 5,000 characters is kept whole, said too long, and refused");
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: env("PATIENT_NAME") });
  const long = "Your test results are ready. ".repeat(180).slice(0, 5000);
  await page.getByLabel("Message", { exact: true }).fill(long);
  result.kept_length = (await page.getByLabel("Message", { exact: true }).inputValue()).length;
  result.warning = await text(page.getByTestId("too-long-warning"));
  await page.getByRole("button", { name: "Send now" }).click();
  await page.getByTestId("compose-error").waitFor();
  result.refused = await text(page.getByTestId("compose-error"));
  result.invalid = await page.getByLabel("Message", { exact: true }).getAttribute("aria-invalid");
  await page.screenshot({ path: join(SHOTS, "compose-too-long.png"), fullPage: true });

  log("Scheduled messages: Cancel with another clinic's message id says not found");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  const row = page.getByTestId("message-row").filter({ hasText: env("PATIENT_NAME") });
  const said = page.getByRole("alert").filter({ hasText: /not found|no longer pending/ });
  await forgeRow(row);
  await row.getByRole("button", { name: /^Cancel message/ }).click();
  await said.waitFor();
  result.cancel_error = await text(said);

  log("Send now with another clinic's message id says not found");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  await row.getByRole("button", { name: /^Send now/ }).click();
  await row.getByTestId("send-now-confirm").waitFor();
  await forgeRow(row);
  await row.getByRole("button", { name: "Yes, send now" }).click();
  await said.waitFor();
  result.send_now_error = await text(said);
  await page.screenshot({ path: join(SHOTS, "forged-id-not-found.png"), fullPage: true });

  log("Appointments: Cancel with another clinic's appointment id says not found");
  await page.goto(`${BASE_URL}/appointments`);
  const booked = page.getByTestId("appointment-row").filter({ hasText: env("PATIENT_NAME") });
  await booked.getByRole("button", { name: /^Cancel appointment of/ }).click();
  await booked.getByTestId("cancel-confirm").waitFor();
  await forgeRow(booked, "OTHER_APPOINTMENT_ID");
  await booked.getByRole("button", { name: "Yes, cancel it" }).click();
  const told = page.getByRole("alert").filter({ hasText: /not found|already closed/ });
  await told.waitFor();
  result.appointment_error = await text(told);

  log("Waitlist: Remove with another clinic's entry id says not found");
  await page.goto(`${BASE_URL}/waitlist`);
  const waiting = page.getByTestId("waitlist-row").filter({ hasText: env("PATIENT_NAME") });
  await forgeRow(waiting, "OTHER_WAITLIST_ID");
  await waiting.getByRole("button", { name: /^Remove / }).click();
  const answered = page.getByRole("alert").filter({ hasText: /not found|already closed|no longer waiting/ });
  await answered.waitFor();
  result.waitlist_error = await text(answered);
  await page.screenshot({ path: join(SHOTS, "waitlist-forged-not-found.png"), fullPage: true });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "refusals-say-why-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
