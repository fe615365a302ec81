#!/usr/bin/env node
// The 08:00 peak controls in headless Chromium (issue 20). An admin sets the clinic's early send
// window and paid broadcast on the settings page (a value out of range is refused by the server,
// naming the field), saves the clinic's own Telegram bot (a token Telegram answers for another bot
// is refused naming the Bot token field; the right one shows the bot's @username and id, never
// the token), marks a patient's medicine time-critical, and reads on the patient's page why the
// Telegram chat gets nothing (the patient blocked the bot) and that reminders go by SMS. A
// clinician who is not an admin sees the peak settings read-only. Run by
// tests/dashboard/test_capacity_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, CLINICIAN_EMAIL/_PASSWORD, PATIENT_ID,
// MEDICATION_NAME, BOT_TOKEN, OTHER_BOT_TOKEN, SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn as openAs } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

async function signIn(email, password) {
  page = await openAs(browser, email, password);
}

async function saveCapacity({ early, paid, after, validate = true, refused = false }) {
  const form = page.getByTestId("capacity-form");
  if (!validate) await form.evaluate((f) => (f.noValidate = true)); // what a script could send
  await form.getByLabel("Medication reminders: minutes early at most").fill(early);
  await form.getByLabel(paid === "off" ? "Off (no cost)" : "On for messages that are late by at least").check();
  await form.getByLabel("Seconds late").fill(after);
  await form.getByRole("button", { name: "Save peak settings" }).click();
  // A refusal stays on the page with the form as chosen; a save reloads it with the new values.
  if (refused) await page.getByTestId("capacity-error").waitFor();
  else await page.waitForURL(/capacity_saved=/);
}

async function saveBot(token) {
  const bot = page.getByTestId("account-telegram");
  await bot.getByLabel("Bot token").fill(token);
  await bot.getByRole("button", { name: /Check and save Telegram/ }).click();
  await page.waitForURL(/account=telegram/);
  return page.getByTestId("account-telegram");
}

try {
  await signIn(env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));
  await page.goto(`${BASE_URL}/settings`);

  log("the browser itself keeps the window within 0-60 minutes");
  const early = page.getByTestId("capacity-form").getByLabel("Medication reminders: minutes early at most");
  await early.fill("61");
  result.browser_blocks_61 = !(await early.evaluate((input) => input.checkValidity()));

  log("a window over 60 minutes sent anyway is refused by the server, naming the field");
  await saveCapacity({ early: "61", paid: "after", after: "45", validate: false, refused: true });
  result.early_error = await text(page.getByTestId("capacity-error"));
  const refusedForm = page.getByTestId("capacity-form");
  const refused = refusedForm.getByLabel("Medication reminders: minutes early at most");
  result.early_invalid = await refused.getAttribute("aria-invalid");
  result.early_described_by = await refused.getAttribute("aria-describedby");
  // Everything chosen is still there to correct (the page used to reload the saved values).
  result.kept_after_refusal = {
    early: await refused.inputValue(),
    paid_after_checked: await refusedForm.getByLabel("On for messages that are late by at least").isChecked(),
    after: await refusedForm.getByLabel("Seconds late").inputValue(),
    // The chosen values as query parameters (a form sent by GET); not "61" or "45" anywhere in
    // the address: a random id in it matched by chance (a CI failure).
    url_has_values: [...new URL(page.url()).searchParams.values()].some((v) => v === "61" || v === "45"),
  };

  log("an admin sets 10 minutes early and paid broadcast after 90 s late");
  await saveCapacity({ early: "10", paid: "after", after: "90" });
  result.capacity_saved = await text(page.getByTestId("capacity-saved"));
  result.capacity_early = await text(page.getByTestId("capacity-early"));
  result.capacity_paid = await text(page.getByTestId("capacity-paid"));
  result.capacity_form_early = await page.getByTestId("capacity-form").getByLabel("Medication reminders: minutes early at most").inputValue();
  result.capacity_form_after = await page.getByTestId("capacity-form").getByLabel("Seconds late").inputValue();
  await page.locator("#capacity").screenshot({ path: join(SHOTS, "settings-peak.png") });

  log("the clinic's own cap per patient: 0 (off) sent anyway is refused naming the field; 3 an hour is saved");
  const caps = page.getByTestId("patient-caps-form");
  await caps.evaluate((f) => (f.noValidate = true)); // what a script could send
  await caps.getByLabel("Most messages per patient in an hour").fill("0");
  await caps.getByRole("button", { name: "Save caps" }).click();
  await page.getByTestId("patient-caps-error").waitFor();
  result.caps_error = await text(page.getByTestId("patient-caps-error"));
  result.caps_invalid = await page.getByTestId("patient-caps-form").getByLabel("Most messages per patient in an hour").getAttribute("aria-invalid");
  await page.getByTestId("patient-caps-form").getByLabel("Most messages per patient in an hour").fill("3");
  await page.getByTestId("patient-caps-form").getByRole("button", { name: "Save caps" }).click();
  await page.waitForURL(/caps_saved=/);
  result.caps_saved = await text(page.getByTestId("patient-caps-saved"));
  result.caps_summary = await text(page.getByTestId("patient-caps-summary"));
  await page.locator("#patient-caps").screenshot({ path: join(SHOTS, "settings-patient-caps.png") });

  log("the clinic's own Telegram bot: a token of another bot is refused, naming the field");
  let bot = await saveBot(env("OTHER_BOT_TOKEN"));
  result.bot_refused = await text(bot.getByTestId("account-telegram-error"));
  result.bot_refused_invalid = await bot.getByLabel("Bot token").getAttribute("aria-invalid");

  log("the right token is checked with Telegram; the bot's @username and id are shown, never the token");
  bot = await saveBot(env("BOT_TOKEN"));
  result.bot_notice = await text(bot.getByRole("status"));
  result.bot_status = await text(bot.getByTestId("account-telegram-status"));
  result.bot_token_field = await bot.getByLabel("Bot token").inputValue();
  const secretPart = env("BOT_TOKEN").split(":")[1];
  result.page_has_token = (await page.content()).includes(secretPart);
  await bot.screenshot({ path: join(SHOTS, "settings-telegram-bot.png") });

  log("the patient page: the blocked Telegram chat, why, and the channel reminders go by");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  result.stop_telegram = await text(page.getByTestId("stop-telegram"));
  result.reminders_via = await text(page.getByTestId("reminders-via"));
  result.badges = await page.locator("section[aria-labelledby=channels-h] .badge").allTextContents();
  result.badge_title = await page.locator("section[aria-labelledby=channels-h] .badge").first().getAttribute("title");

  log("marking the medicine time-critical");
  const name = env("MEDICATION_NAME");
  await page.getByRole("button", { name: `Mark time-critical: ${name}` }).click();
  await page.waitForURL(/saved=time_critical/);
  result.time_critical_notice = await text(page.getByTestId("time-critical-notice"));
  result.time_critical_badges = await page.getByText("time-critical", { exact: true }).count();
  result.routine_button = await page.getByRole("button", { name: `Mark routine: ${name}` }).count();
  await page.locator("section[aria-labelledby=channels-h]").screenshot({ path: join(SHOTS, "patient-blocked-channel.png") });
  await page.locator("section[aria-labelledby=meds-h]").screenshot({ path: join(SHOTS, "patient-time-critical.png") });

  log("a clinician who is not an admin sees the peak settings read-only");
  await signIn(env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  await page.goto(`${BASE_URL}/settings`);
  result.clinician_capacity_forms = await page.getByTestId("capacity-form").count();
  result.clinician_capacity_readonly = await text(page.getByTestId("capacity-readonly"));
  result.clinician_capacity_paid = await text(page.getByTestId("capacity-paid"));
  result.clinician_caps_forms = await page.getByTestId("patient-caps-form").count();
  result.clinician_caps_summary = await text(page.getByTestId("patient-caps-summary"));
  result.clinician_bot_status = await text(page.getByTestId("account-telegram-status"));
  await page.locator("#capacity").screenshot({ path: join(SHOTS, "settings-peak-readonly.png") });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "capacity-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
