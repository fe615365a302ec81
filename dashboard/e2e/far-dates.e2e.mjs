#!/usr/bin/env node
// A time in year 9999 typed into the appointment forms and Compose. Found by hand (session 29):
// Move took 9999-12-31 23:59 (a datetime-local field takes years to 275760; the API refuses past
// 9998), and from then on the Appointments page of the whole clinic was "Something went wrong"
// (its end, in year 10000, is no date JavaScript reads). Now each form refuses it naming its
// field and the years. Run by tests/dashboard/test_far_dates_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_NAME, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const FAR = "9999-12-31T23:59";
const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));

  log("Move to year 9999: refused naming New time; the page still loads");
  await page.goto(`${BASE_URL}/appointments`);
  const row = page.getByTestId("appointment-row").filter({ hasText: env("PATIENT_NAME") });
  await row.getByLabel("New time").fill(FAR);
  await row.getByRole("button", { name: "Move" }).click();
  await page.waitForURL((url) => url.search.includes("error="));
  const moved = page.locator("main").getByRole("alert").filter({ hasText: "New time" });
  await moved.waitFor();
  result.move = await text(moved);
  await page.goto(`${BASE_URL}/appointments`);
  result.page_after = await text(page.locator("main h1").first());
  await page.screenshot({ path: join(SHOTS, "far-date-move.png"), fullPage: true });

  log("New appointment in year 9999: refused naming Starts at");
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: env("PATIENT_NAME") });
  await page.getByLabel("Starts at (", { exact: false }).fill(FAR);
  await page.getByRole("button", { name: "Create appointment" }).click();
  const refused = page.locator("main").getByRole("alert").filter({ hasText: "Starts at" }).first();
  await refused.waitFor();
  result.create = await text(refused);

  log("Compose for year 9999: refused naming Date and time");
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: env("PATIENT_NAME") });
  await page.getByLabel("Message", { exact: true }).fill("See you then");
  await page.getByLabel("At a time", { exact: false }).check();
  await page.getByLabel("Date and time", { exact: false }).fill(FAR);
  await page.getByRole("button", { name: "Schedule" }).click();
  await page.getByTestId("compose-error").waitFor();
  result.compose = await text(page.getByTestId("compose-error"));

  if (process.env.RESULT_FILE) writeFileSync(process.env.RESULT_FILE, JSON.stringify(result));
  console.log("e2e: passed");
  await browser.close();
  process.exit(0);
} catch (error) {
  console.error(`e2e: FAILED: ${error instanceof Error ? error.stack : error}`);
  if (page) await page.screenshot({ path: join(SHOTS, "far-dates-failure.png"), fullPage: true }).catch(() => undefined);
  await browser.close();
  process.exit(1);
}
