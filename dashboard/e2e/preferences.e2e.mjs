#!/usr/bin/env node
// Clinic templates previewed with real data and the clinic's side of preferences, in headless
// Chromium. Run by tests/dashboard/test_preferences_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, ANA_ID and BETO_ID (patients whose next
// automatic message is an appointment reminder; Ana opted out of medication reminders herself;
// Beto's reminders are paused from his page and resumed),
// SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const BASE_URL = env("BASE_URL").replace(/\/$/, "");
const SHOTS = env("SCREENSHOT_DIR", "test-artifacts/screenshots");
mkdirSync(SHOTS, { recursive: true });
const log = (step) => console.log(`e2e: ${step}`);
const PAUSE_DAYS = "For a number of days";
function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

const browser = await launch();
let page;
const result = {};
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(`${BASE_URL}/login`);
  await page.getByLabel("E-mail").fill(env("CLINICIAN_EMAIL"));
  await page.getByLabel("Password").fill(env("CLINICIAN_PASSWORD"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE_URL}/patients`);

  // Before: no clinic template, so the built-in text is previewed.
  await page.goto(`${BASE_URL}/patients/${env("ANA_ID")}`);
  const source = page.getByTestId("next-message-source");
  await source.waitFor();
  check((await source.textContent()).includes("built-in"), "built-in text before the clinic has a template");

  // The clinic's appointment reminder text, saved on the Templates page (checked by the API).
  await page.goto(`${BASE_URL}/templates`);
  await page.getByLabel("Name").fill("visit-reminder");
  await page.getByLabel("Used for").selectOption("appointment_reminder");
  await page.getByLabel("Channel").selectOption("telegram");
  await page
    .getByLabel("Text")
    .fill("{{ clinic_name }}: see you {{ starts_at|date }} at {{ starts_at|time }}, {{ patient_name }}. {{ location }}.");
  // Before Check text the preview showed this text with {{ starts_at|date }} and the rest as
  // typed, which no patient gets: none until the service renders it; after, its sample values.
  result.unchecked_preview = (await page.getByTestId("template-preview").textContent()).trim();
  await page.screenshot({ path: join(SHOTS, "template-automatic-unchecked.png"), fullPage: true });
  await page.getByRole("button", { name: "Check text" }).click();
  await page.getByTestId("template-checked").waitFor();
  result.checked_preview = (await page.getByTestId("template-preview").textContent()).trim();
  await page.getByRole("button", { name: "Save template" }).click();
  await page.waitForURL(/\/templates\?saved=1/);
  const row = page.getByTestId("template-row").filter({ hasText: "visit-reminder" });
  check((await row.textContent()).includes("Automatic: Appointment reminder"), "listed as automatic");
  log("template saved");

  // Ana's real next reminder, rendered by the API with the clinic's template.
  await page.goto(`${BASE_URL}/patients/${env("ANA_ID")}`);
  await page.getByTestId("next-message-text").waitFor();
  result.ana_text = (await page.getByTestId("next-message-text").textContent()).trim();
  result.ana_source = (await page.getByTestId("next-message-source").textContent()).trim();
  log(`ana: ${result.ana_source}`);

  // The clinic's choices: clinic news off, medication on (Ana said off: it stays off), offsets.
  await page.getByLabel("Clinic's choice for Clinic news (group messages)").selectOption("out");
  await page.getByLabel("Clinic's choice for Medication reminders").selectOption("in");
  await page.getByLabel("Appointment reminders, before the appointment").fill("48h 3h");
  await page.getByRole("button", { name: "Save preferences" }).click();
  await page.waitForURL(/saved=preferences/);
  const medication = page.getByTestId("pref-medication");
  result.medication_state = (await medication.locator(".badge").textContent()).trim();
  check((await medication.textContent()).includes("The patient opted out"), "patient's opt-out shown");
  check((await medication.textContent()).includes("Stays off"), "the clinic's on does not override");
  await page.getByRole("heading", { name: "Next automatic message" }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "patient-next-message.png"), fullPage: true });
  log("preferences saved; screenshot taken");

  // Beto (Spanish): the clinic has no Spanish version, so the built-in Spanish text.
  await page.goto(`${BASE_URL}/patients/${env("BETO_ID")}`);
  await page.getByTestId("next-message-text").waitFor();
  result.beto_text = (await page.getByTestId("next-message-text").textContent()).trim();
  result.beto_source = (await page.getByTestId("next-message-source").textContent()).trim();
  log(`beto: ${result.beto_source}`);

  // The clinic pauses Beto's reminders (the API's pause, through the web process): a day past is
  // refused naming Until, kept as chosen; 3 days pauses, said in his zone; Resume resumes.
  check((await page.getByTestId("pause-state").textContent()).includes("Reminders are on"), "not paused before");
  const until = page.getByLabel("Until", { exact: true });
  await page.getByLabel("Until a day").check();
  await until.fill("2020-01-01");
  await page.getByRole("button", { name: "Pause reminders" }).click();
  await page.getByTestId("pause-error").waitFor();
  result.pause_error = (await page.getByTestId("pause-error").textContent()).trim();
  check(result.pause_error.startsWith("Until: a day after today"), "a day past refused naming Until");
  check((await until.getAttribute("aria-invalid")) === "true", "Until marked invalid");
  check((await until.inputValue()) === "2020-01-01" && (await page.getByLabel("Until a day").isChecked()), "kept as chosen");
  await page.getByLabel(PAUSE_DAYS).check();
  await page.getByLabel("Days", { exact: true }).fill("3");
  await page.getByRole("button", { name: "Pause reminders" }).click();
  await page.waitForURL(/saved=paused/);
  result.pause_state = (await page.getByTestId("pause-state").textContent()).trim();
  check(result.pause_state.startsWith("Reminders paused until "), "the pause is shown");
  await page.getByRole("heading", { name: "Reminders" }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "patient-paused.png") });
  await page.getByRole("button", { name: "Resume reminders" }).click();
  await page.waitForURL(/saved=resumed/);
  await page.getByText("Reminders are on.").waitFor();
  log("paused for 3 days and resumed");
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result));
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "patient-next-message-failure.png"), fullPage: true }).catch(() => {});
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
}
