#!/usr/bin/env node
// Forms posted with a patient id that is not (or no longer) the clinic's: another clinic's
// patient put in the hidden field or the list (a forged form), or one erased by a colleague while
// the page was open. Found by hand: saving a patient's message preferences with such an id
// answered "Something went wrong" (the row-level check's error was a 500), and Compose said
// "That item was not found." naming no field. Run by tests/dashboard/test_forged_patient_ids_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, MINE (a patient of the clinic), THEIRS
// (another clinic's patient), ERASED (the clinic's erased patient), SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;

/** Put `id` in the form's patient_id (a hidden field, or a select given the option). */
const forgePatient = (form, id) => forge(form.locator('[name="patient_id"]'), id, "forged");

async function savePreferencesAs(id) {
  await page.goto(`${BASE_URL}/patients/${env("MINE")}`);
  const form = page.locator("form", { has: page.locator("#pref-offsets") });
  await form.getByLabel("Appointment reminders, before the appointment").fill("48h");
  await forgePatient(form, id);
  await form.getByRole("button", { name: "Save preferences" }).click();
  await page.waitForURL((url) => !url.pathname.endsWith(env("MINE")));
  await page.waitForLoadState("networkidle");
  return { url: page.url().replace(BASE_URL, ""), heading: ((await page.locator("main h1").first().textContent()) ?? "").trim() };
}

try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("preferences saved for another clinic's patient: their page, not found");
  result.theirs = await savePreferencesAs(env("THEIRS"));
  result.theirs_text = await page.locator("main").innerText();
  await page.screenshot({ path: join(SHOTS, "forged-preferences.png") });
  log("preferences saved for a patient erased meanwhile: their record, erased");
  result.erased = await savePreferencesAs(env("ERASED"));

  log("Compose to another clinic's patient: the Patient field named");
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Message", { exact: true }).fill("Hello from the clinic");
  const compose = page.locator("main form").first();
  await forgePatient(compose, env("THEIRS"));
  await page.getByRole("button", { name: "Send now" }).click();
  await page.getByTestId("compose-error").waitFor();
  result.compose_error = ((await page.getByTestId("compose-error").textContent()) ?? "").trim();
  result.compose_patient_invalid = await page.locator("#patient_id").getAttribute("aria-invalid");
  await page.screenshot({ path: join(SHOTS, "forged-compose.png") });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "forged-patient-ids-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
