#!/usr/bin/env node
// Compose refuses a message no channel of the patient reaches now (SMS only, and they sent STOP):
// on SMS and on auto, the form names why and what to do, keeps the text, and marks the Channel
// field; before, it was accepted and failed at once in the worker. Run by
// tests/dashboard/test_compose_unreachable_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_NAME (an SMS-only patient who sent
// STOP), SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const channel of ["sms", "auto"]) {
    log(`Compose on ${channel} to a patient no channel reaches: refused in the form`);
    await page.goto(`${BASE_URL}/messages/new`);
    await page.getByLabel("Patient", { exact: true }).selectOption({ label: env("PATIENT_NAME") });
    await page.getByLabel("Channel").selectOption(channel);
    await page.getByLabel("Message", { exact: true }).fill("Your results are ready");
    await page.getByRole("button", { name: "Send now" }).click();
    await page.getByTestId("compose-error").waitFor();
    const field = page.getByLabel("Channel");
    result[channel] = {
      error: await text(page.getByTestId("compose-error")),
      text_kept: await page.getByLabel("Message", { exact: true }).inputValue(),
      channel_after: await field.inputValue(),
      channel_invalid: await field.getAttribute("aria-invalid"),
      url: page.url(),
    };
    await page.screenshot({ path: join(SHOTS, `compose-unreachable-${channel}.png`), fullPage: true });
  }
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "compose-unreachable-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
