#!/usr/bin/env node
// Compose and a patient no channel reaches now (SMS only, and they sent STOP), with the API's rule
// (public.message_reach, migration 20260101015200):
// - Send now, on SMS and on auto: refused in the form, naming why and what to do; the text kept,
//   the Channel field marked;
// - At a time an hour ahead (the form's default): kept, and the patient's page says it fails
//   unless they can be reached by then; Send now on it in the Messages list is refused, and so is
//   Re-send of their failed message (the copy would fail again);
// - to a group with them and a reachable patient: the count says one of them is not reachable;
//   Send now: the reachable one gets it, the stopped one is named as not sent to, and why;
// - to an invited patient (not consented yet), now or an hour ahead: refused in the form, as the
//   API's 409, saying to send an invite link; the text kept, the Patient field marked; in the
//   group they are counted apart and named as not sent to;
// - the Patient list names unnamed patients "Unnamed patient (...)" told apart by masked digits,
//   never by their id, and no full phone number reaches the page.
// Run by tests/dashboard/test_compose_unreachable_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_NAME (an SMS-only patient who sent
// STOP), INVITED_NAME (an invited patient with a phone), GROUP_QUERY (matches the three),
// SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

async function compose(channel, patient = env("PATIENT_NAME")) {
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: patient });
  await page.getByLabel("Channel").selectOption(channel);
  await page.getByLabel("Message", { exact: true }).fill("Your results are ready");
}

try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const channel of ["sms", "auto"]) {
    log(`Compose on ${channel}, now, to a patient no channel reaches: refused in the form`);
    await compose(channel);
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

  for (const when of ["now", "later"]) {
    log(`Compose on auto, ${when}, to an invited patient: refused in the form, as the API's 409`);
    await compose("auto", env("INVITED_NAME"));
    if (when === "later") await page.getByLabel(/^At a time/).check();
    await page.getByRole("button", { name: when === "now" ? "Send now" : "Schedule" }).click();
    await page.getByTestId("compose-error").waitFor();
    const field = page.getByLabel("Patient", { exact: true });
    result[`invited_${when}`] = {
      error: await text(page.getByTestId("compose-error")),
      text_kept: await page.getByLabel("Message", { exact: true }).inputValue(),
      patient_invalid: await field.getAttribute("aria-invalid"),
      url: page.url(),
    };
    await page.screenshot({ path: join(SHOTS, `compose-invited-${when}.png`), fullPage: true });
  }

  log("Compose on auto, an hour ahead: kept, and the patient's page says it may fail");
  await compose("auto");
  await page.getByLabel(/^At a time/).check();
  await page.getByRole("button", { name: "Schedule" }).click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}\?notice=unreachable_later$/);
  result.later = { notice: await text(page.getByTestId("patient-notice")), url: page.url() };
  await page.screenshot({ path: join(SHOTS, "compose-unreachable-later.png"), fullPage: true });

  log("Send now on that message, in the Messages list: refused, it stays scheduled");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  await page.getByRole("button", { name: `Send now: message to ${env("PATIENT_NAME")}` }).click();
  await page.getByRole("button", { name: "Yes, send now" }).click(); // Send now asks first
  await page.waitForURL(/error=unreachable_now/);
  result.send_now = { error: await text(page.locator("p.alert")) };
  await page.screenshot({ path: join(SHOTS, "messages-send-now-unreachable.png"), fullPage: true });

  log("Re-send of their failed message: refused, no copy made");
  await page.goto(`${BASE_URL}/messages?status=failed`);
  await page.getByRole("button", { name: `Re-send: failed message to ${env("PATIENT_NAME")}` }).click();
  await page.waitForURL(/error=resend_unreachable/);
  result.resend = { error: await text(page.locator("p.alert")) };

  log("Compose to a group with the stopped patient and a reachable one, now");
  await page.goto(`${BASE_URL}/messages/new?audience=group`);
  await page.getByLabel("Name, external id or address contains").fill(env("GROUP_QUERY"));
  await page.getByLabel("Channel").selectOption("auto");
  await page.getByRole("button", { name: "Count recipients" }).click();
  await page.getByTestId("group-count").filter({ hasText: "match" }).waitFor();
  const count = await text(page.getByTestId("group-count"));
  await page.getByLabel("Message", { exact: true }).fill("The clinic is closed on Friday, {{ patient_name }}.");
  await page.getByRole("button", { name: "Send now to the group" }).click();
  await page.getByTestId("group-report").waitFor();
  result.group = {
    count,
    summary: await text(page.getByTestId("group-report-summary")),
    skipped: await text(page.getByTestId("group-skipped")),
    skipped_names: await page.getByTestId("group-skipped").locator("li").allTextContents(),
    later_shown: await page.getByTestId("group-unreachable-later").count(),
    not_consented: await text(page.getByTestId("group-not-consented")),
    not_consented_names: await page.getByTestId("group-not-consented").locator("li").allTextContents(),
    form_gone: (await page.getByRole("button", { name: /Send now/ }).count()) === 0,
  };
  await page.screenshot({ path: join(SHOTS, "compose-group-skipped.png"), fullPage: true });

  log("The Patient list: unnamed patients told apart, no id, no full number");
  await page.goto(`${BASE_URL}/messages/new`);
  const options = await page.getByLabel("Patient", { exact: true }).locator("option").allTextContents();
  result.patient_options = options.map((o) => o.trim());
  result.page_html = await page.content();
  await page.screenshot({ path: join(SHOTS, "compose-unnamed-patients.png"), fullPage: true });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "compose-unreachable-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
