#!/usr/bin/env node
// A patient's details (name, language, external id) edited from two tabs of their page, which
// refreshes itself every 3 s. A tab being edited keeps what the clinician typed and what it said
// it showed; its save writes only what it changed (a colleague's change meanwhile stays) and
// refuses a change of a value changed since, saying so; an untouched tab shows what is stored.
// Run by tests/dashboard/test_patient_details_two_tabs_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let first;
const patientPage = `${BASE_URL}/patients/${env("PATIENT_ID")}`;

/** Save the details form of `page`; "saved" or the page's refusal. */
async function save(page) {
  const before = page.url();
  await page.getByTestId("details-form").getByRole("button", { name: "Save details" }).click();
  await page.waitForURL((url) => url.href !== before && /saved=details|error=/.test(url.href));
  await page.waitForLoadState("networkidle");
  if (!page.url().includes("error=")) return "saved";
  const alert = page.locator("main").getByRole("alert").filter({ hasText: /\S/ });
  await alert.first().waitFor();
  return ((await alert.first().textContent()) ?? "").trim();
}

try {
  first = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  const second = await first.context().newPage();
  await first.goto(patientPage);
  await second.goto(patientPage);
  await first.waitForLoadState("networkidle");
  await second.waitForLoadState("networkidle");
  const form = (page) => page.getByTestId("details-form");
  // The patient is paused until a day of theirs: the page says until when, in their zone.
  result.summary = ((await first.getByTestId("patient-summary").textContent()) ?? "").trim();

  log("the first tab starts renaming the patient");
  await form(first).locator("#details-name").fill("Pia Renamed");
  log("the second tab, loaded before, switches the language to Spanish");
  await form(second).locator("#details-locale").selectOption("es");
  result.second = await save(second);
  // Past a refresh of the first tab: what it shows and says it showed stay as they were.
  await first.waitForTimeout(3500);
  result.edited_name = await form(first).locator("#details-name").inputValue();
  result.edited_locale = await form(first).locator("#details-locale").inputValue();
  log("the first tab saves its name: the language stays the second tab's");
  result.first = await save(first);
  log("the second tab, untouched since its save, shows the new name after a refresh");
  await form(second).locator("#details-name[value='Pia Renamed']").waitFor({ timeout: 15000 });
  result.refreshed_name = await form(second).locator("#details-name").inputValue();

  log("both tabs change the external id: the later save is refused");
  await form(second).locator("#details-external-id").fill("MRN-SECOND");
  await form(first).locator("#details-external-id").fill("MRN-FIRST");
  result.first_id = await save(first);
  await second.waitForTimeout(3500);
  result.stale_kept = await form(second).locator("#details-external-id").inputValue();
  result.stale = await save(second);
  result.stale_shows = await form(second).locator("#details-external-id").inputValue();
  await second.locator("#details-h").scrollIntoViewIfNeeded();
  await second.screenshot({ path: join(SHOTS, "patient-details-stale.png"), fullPage: false });
} catch (error) {
  if (first) await first.screenshot({ path: join(SHOTS, "patient-details-two-tabs-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
