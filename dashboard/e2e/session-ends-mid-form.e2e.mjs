#!/usr/bin/env node
// A clinician whose session ends while filling in a form keeps what they typed. Found in
// session 30: the patient page's 3-s refresh, or the form's Save, went to the sign-in page, and
// everything typed was lost. Now the refresh stops, the Save answers "nothing was saved", the page
// asks for the password itself (components/SessionGuard.tsx) and the next Save saves. Nothing
// typed goes into an address. Also: the template editor offers the caregiver's update
// (caregiver_dose_update) and saves a text for it.
// Run by tests/dashboard/test_session_ends_mid_form_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD (the clinic's admin: templates), PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = { urls: [] };
let page;
const email = env("ADMIN_EMAIL");
const password = env("ADMIN_PASSWORD");

/** End the session as its expiry does: the browser drops the cookie. */
async function endSession() {
  await page.context().clearCookies();
}

/** Sign in again in the page's own box; the notice it shows then. */
async function signInAgain() {
  const box = page.getByTestId("session-ended");
  await box.waitFor();
  await box.locator("#resume-email").fill(email);
  await box.locator("#resume-password").fill(password);
  await box.getByRole("button", { name: "Sign in again" }).click();
  const resumed = page.getByTestId("session-resumed");
  await resumed.waitFor();
  return ((await resumed.textContent()) ?? "").trim();
}

try {
  page = await signIn(browser, email, password);
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) result.urls.push(frame.url());
  });

  log("the patient page: appointment reminders typed, then the session ends");
  const patientPage = `${BASE_URL}/patients/${env("PATIENT_ID")}`;
  await page.goto(patientPage);
  await page.waitForLoadState("networkidle");
  const prefs = page.getByTestId("preferences-form");
  await prefs.locator("#pref-offsets").fill("24h 2h");
  await endSession();
  // Past the page's refresh (3 s), which went to the sign-in page.
  await page.getByTestId("session-ended").waitFor({ timeout: 10000 });
  await page.waitForTimeout(3500);
  result.patient_page_kept = page.url() === patientPage;
  result.offsets_kept = await prefs.locator("#pref-offsets").inputValue();
  await page.screenshot({ path: join(SHOTS, "session-ended-patient.png"), fullPage: false });
  await prefs.getByRole("button", { name: "Save preferences" }).click();
  const refusal = page.getByTestId("preferences-error");
  await refusal.waitFor();
  result.prefs_refusal = ((await refusal.textContent()) ?? "").trim();
  result.offsets_after_refusal = await prefs.locator("#pref-offsets").inputValue();
  result.patient_resumed = await signInAgain();
  await prefs.getByRole("button", { name: "Save preferences" }).click();
  await page.waitForURL(/saved=preferences/);
  result.prefs_saved = true;

  log("New patient: filled in, the session ends, Create patient");
  await page.goto(`${BASE_URL}/patients/new`);
  await page.locator("#display_name").fill("Nia Draft");
  await page.locator("#channel").selectOption("sms");
  await page.locator("#address").fill("+14155550123");
  await page.locator("#external_id").fill("MRN-DRAFT");
  await endSession();
  await page.getByRole("button", { name: "Create patient" }).click();
  const patientError = page.getByTestId("patient-error");
  await patientError.waitFor();
  result.new_patient_refusal = ((await patientError.textContent()) ?? "").trim();
  result.new_patient_url = page.url();
  result.new_patient_kept = {
    name: await page.locator("#display_name").inputValue(),
    channel: await page.locator("#channel").inputValue(),
    address: await page.locator("#address").inputValue(),
    external_id: await page.locator("#external_id").inputValue(),
  };
  await page.getByTestId("session-ended").waitFor();
  await page.screenshot({ path: join(SHOTS, "session-ended-new-patient.png"), fullPage: false });
  result.new_patient_resumed = await signInAgain();
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  result.created = ((await page.locator("h1").first().textContent()) ?? "").trim();

  log("Templates: the caregiver's update among the automatic messages");
  await page.goto(`${BASE_URL}/templates`);
  const kind = page.locator("#tpl-kind");
  result.kind_label = ((await kind.locator("option[value='caregiver_dose_update']").textContent()) ?? "").trim();
  await kind.selectOption("caregiver_dose_update");
  await page.locator("#tpl-name").fill("Caregiver update");
  await page
    .locator("#tpl-body")
    .fill("Update from {{ clinic_name }}: {{ patient_name }} has now taken the {{ due_at|time }} dose ({{ answered_at|time }}).");
  result.kind_hint = ((await page.locator("#tpl-hint").textContent()) ?? "").trim();
  await page.screenshot({ path: join(SHOTS, "template-caregiver-update.png"), fullPage: false });
  await page.getByRole("button", { name: "Save template" }).click();
  await page.waitForURL(/saved=1/);
  await page.locator("td", { hasText: "Automatic: Caregiver update" }).first().waitFor();
  result.template_listed = true;
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "session-ends-mid-form-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
