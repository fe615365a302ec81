#!/usr/bin/env node
// A clinic's own provider account on the settings page, in headless Chromium: an admin saves the
// clinic's Twilio SMS account (a wrong auth token is refused, naming the field, with Twilio's
// answer; the right one is checked and saved, and only its masked hint is shown), then a
// clinician who is not an admin sees the account but no form. Run by
// tests/dashboard/test_provider_accounts_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, CLINICIAN_EMAIL/_PASSWORD, ACCOUNT_SID,
// AUTH_TOKEN, FROM_NUMBER, SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, check, env, launch, log, SHOTS, signIn as openAs } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;

async function signIn(email, password) {
  page = await openAs(browser, email, password);
  await page.goto(`${BASE_URL}/settings`);
  return page;
}

async function fillSms(sms, token) {
  await sms.getByLabel("Account SID").fill(env("ACCOUNT_SID"));
  await sms.getByLabel("Sender number").fill(env("FROM_NUMBER"));
  await sms.getByLabel("Auth token").fill(token);
  await sms.getByRole("button", { name: "Check and save SMS (Twilio)" }).click();
  await page.waitForURL(/account=sms/);
}

try {
  await signIn(env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));
  let sms = page.getByTestId("account-sms");
  check((await sms.getByTestId("account-sms-status").textContent()).includes("Default sender"), "starts on the default");

  log("a wrong auth token is refused, naming the field");
  await fillSms(sms, "not-the-right-token");
  sms = page.getByTestId("account-sms");
  result.refused = (await sms.getByTestId("account-sms-error").textContent()).trim();
  result.refused_invalid = await sms.getByLabel("Auth token").getAttribute("aria-invalid");

  log("the right one is checked and saved");
  await fillSms(sms, env("AUTH_TOKEN"));
  sms = page.getByTestId("account-sms");
  result.saved_notice = (await sms.getByRole("status").textContent()).trim();
  result.status = (await sms.getByTestId("account-sms-status").textContent()).trim();
  result.token_field = await sms.getByLabel("Auth token").inputValue();
  result.page_has_token = (await page.content()).includes(env("AUTH_TOKEN"));
  await page.getByRole("heading", { name: "Provider accounts" }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "settings-provider-accounts.png"), fullPage: true });

  log("a clinician who is not an admin sees it, and no form");
  await signIn(env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  sms = page.getByTestId("account-sms");
  result.clinician_status = (await sms.getByTestId("account-sms-status").textContent()).trim();
  result.clinician_forms = await page.locator("form[data-channel]").count();
  result.clinician_hint = (await page.getByText("Only an admin of the clinic can change these.").count()) > 0;
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "settings-provider-accounts-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
