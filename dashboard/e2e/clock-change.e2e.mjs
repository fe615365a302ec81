#!/usr/bin/env node
// A clinician of a clinic in America/Los_Angeles writes a time the clocks skip that night (02:30
// on 14 March 2027, when summer time begins): Compose, a new appointment and Move are each
// refused naming the field, the field marked, nothing saved or moved (before: PostgreSQL read
// the time with the winter offset, and the message or appointment was silently an hour later,
// 03:30). A real time of that night goes through, and a time that happens twice (the night the
// clocks go back) is the first time the clock shows it; the patient's messages at the first and
// the second 01:30 of that night name their zone ("01:30 PDT", "01:30 PST").
// Run by tests/dashboard/test_clock_change_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_NAME, SKIPPED, REAL, TWICE, SCREENSHOT_DIR,
// RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
const skipped = env("SKIPPED");

/** Compose `message` to `patient` at the wall time `at` (the clinic's zone), and schedule it. */
async function scheduleAt(page, patient, message, at) {
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: patient });
  await page.getByLabel("Message", { exact: true }).fill(message);
  await page.getByLabel(/^At a time/).check();
  await page.getByLabel(/^Date and time in/).fill(at);
  await page.getByRole("button", { name: "Schedule" }).click();
}

try {
  const page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  const patient = env("PATIENT_NAME");

  log("Compose at a skipped time: refused, the time marked, the text kept");
  await scheduleAt(page, patient, "See you on Monday", skipped);
  const when = page.getByLabel(/^Date and time in/);
  await page.getByTestId("compose-error").waitFor();
  await page.screenshot({ path: join(SHOTS, "clock-change-compose.png"), fullPage: true });
  result.compose = {
    error: await text(page.getByTestId("compose-error")),
    invalid: await when.getAttribute("aria-invalid"),
    text_kept: await page.getByLabel("Message", { exact: true }).inputValue(),
  };

  log("a new appointment at a skipped time: refused, named");
  await page.goto(`${BASE_URL}/appointments`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: patient });
  const starts = page.getByLabel(/^Starts at/);
  await starts.fill(skipped);
  await page.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").waitFor();
  await page.screenshot({ path: join(SHOTS, "clock-change-appointment.png"), fullPage: true });
  result.appointment = {
    error: await text(page.getByTestId("appointment-error")),
    invalid: await starts.getAttribute("aria-invalid"),
  };

  log("Move the clinic's appointment to a skipped time: refused, not moved");
  await page.goto(`${BASE_URL}/appointments`);
  const row = page.getByRole("row").filter({ hasText: patient });
  await row.getByLabel("New time").fill(skipped);
  await row.getByRole("button", { name: "Move" }).click();
  await page.waitForURL(/error=/);
  result.move = { url: page.url(), error: await text(page.getByTestId("appointments-error")) };

  log("a real time of the same night goes through");
  await scheduleAt(page, patient, "See you on Monday", env("REAL"));
  await page.waitForURL(/\/patients\//);
  result.real_url = page.url();

  log("a time that happens twice (the clocks go back): kept, the first time the clock shows it");
  await scheduleAt(page, patient, "Twice", env("TWICE"));
  await page.waitForURL(/\/patients\//);

  log("the patient's messages at the two 01:30s of that night: each names its zone");
  const messages = page.getByTestId("message");
  await messages.filter({ hasText: "Twice" }).first().waitFor();
  result.messages = [];
  for (const item of await messages.all()) {
    result.messages.push(await text(item.locator("strong").first()));
  }
  await messages.filter({ hasText: "Twice" }).first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "clock-change-twice.png"), fullPage: true });
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
