#!/usr/bin/env node
// A clinician's QA pass over the forms and the narrow screen. A refused form keeps everything
// typed and names the field it is about (New patient: a phone number and a timezone with typos;
// Compose: a placeholder that would reach the patient as typed; Settings: an unknown timezone),
// then the corrected form goes through. The settings say what equal quiet hours mean; a clinician
// who is not an admin sees them read-only. At phone width no page scrolls sideways; the current
// section is marked in the navigation; keyboard only: skip link first, sign-in with Enter. A
// template's language and channel stay as chosen through a refusal and a check (they went back
// to English / any channel on screen, and were saved so); a clinician who is not an admin can
// check texts but is not offered saving or deleting.
// Run by tests/dashboard/test_forms_keep_input_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, CLINICIAN_EMAIL/_PASSWORD, PATIENT_NAME (a patient
// of the clinic), SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

/** Each named field's value, and whether it is marked invalid and described by `errorId`. */
async function fields(labels, errorId) {
  const out = {};
  for (const [key, label] of Object.entries(labels)) {
    const field = page.getByLabel(label, { exact: true });
    out[key] = {
      value: (await field.getAttribute("type")) === "checkbox" ? await field.isChecked() : await field.inputValue(),
      invalid: (await field.getAttribute("aria-invalid")) === "true",
      described: ((await field.getAttribute("aria-describedby")) ?? "").split(" ").includes(errorId),
    };
  }
  return out;
}

try {
  log("keyboard only: sign in with Tab and Enter, then the skip link comes first");
  const keyboard = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await keyboard.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(`${BASE_URL}/login`);
  await page.keyboard.press("Tab");
  result.first_tab_on_login = await page.evaluate(() => document.activeElement?.id ?? null);
  await page.keyboard.type(env("ADMIN_EMAIL"));
  await page.keyboard.press("Tab");
  await page.keyboard.type(env("ADMIN_PASSWORD"));
  await page.keyboard.press("Enter");
  await page.waitForURL(`${BASE_URL}/patients`);
  await page.keyboard.press("Tab");
  result.first_tab_in_app = await text(page.locator(":focus"));
  await keyboard.close();

  page = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));

  log("New patient: a wrong phone number is refused naming the field; everything typed stays");
  await page.goto(`${BASE_URL}/patients/new`);
  const patientLabels = {
    name: "Name",
    channel: "Channel",
    address: "Address",
    timezone: "Timezone",
    external_id: "External id (optional)",
    consent: "The patient agreed to receive reminders",
  };
  await page.getByLabel("Name", { exact: true }).fill("Nora Newcomer");
  await page.getByLabel("Channel").selectOption("sms");
  await page.getByLabel("Address").fill("+1 415 555");
  await page.getByLabel("Timezone").fill("Europe/Madird");
  await page.getByLabel("Language").selectOption("es");
  await page.getByLabel("External id (optional)").fill("EXT-0042");
  await page.getByLabel("The patient agreed to receive reminders").check();
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.getByTestId("patient-error").waitFor();
  result.patient_address_error = await text(page.getByTestId("patient-error"));
  result.patient_after_address = await fields(patientLabels, "patient-error");
  result.patient_locale_after = await page.getByLabel("Language").inputValue();
  result.patient_url_after = page.url();
  await page.screenshot({ path: join(SHOTS, "patient-new-refused.png"), fullPage: true });

  log("then the timezone typo, named in turn");
  await page.getByLabel("Address").fill("+1 415 555 0142");
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.getByTestId("patient-error").filter({ hasText: "Timezone" }).waitFor();
  result.patient_timezone_error = await text(page.getByTestId("patient-error"));
  result.patient_after_timezone = await fields(patientLabels, "patient-error");

  log("then a name of zero-width spaces, refused by the database's rule for names (named, kept)");
  await page.getByLabel("Timezone").fill("Europe/Madrid");
  await page.getByLabel("Name", { exact: true }).fill("\u200b\u200b");
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.getByTestId("patient-error").filter({ hasText: "it shows nothing" }).waitFor();
  result.patient_name_error = await text(page.getByTestId("patient-error"));
  result.patient_after_name = await fields(patientLabels, "patient-error");

  log("then an external id with a direction override left open, named (the API refuses it too)");
  await page.getByLabel("Name", { exact: true }).fill("Nora Newcomer");
  await page.getByLabel("External id (optional)").fill("EXT-\u202e0042");
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.getByTestId("patient-error").filter({ hasText: "External id" }).waitFor();
  result.patient_external_id_error = await text(page.getByTestId("patient-error"));
  result.patient_after_external_id = await fields(patientLabels, "patient-error");

  log("corrected: the patient is created (a right-to-left override pasted with it is removed;");
  log("US/Eastern typed is stored as the API stores it, America/New_York)");
  await page.getByLabel("External id (optional)").fill("EXT-0042");
  await page.getByLabel("Timezone").fill("US/Eastern");
  await page.getByLabel("Name", { exact: true }).fill("Nora Newcomer\u202e");
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  result.created_patient_id = page.url().split("/").pop();

  log("Message preferences: reminder times that cannot be read are refused there; the choices stay");
  await page.locator("#choice-clinic_news").selectOption("out");
  await page.locator("#channel-medication").selectOption("sms");
  await page.getByLabel("Appointment reminders, before the appointment").fill("24h and 2h");
  await page.getByRole("button", { name: "Save preferences" }).click();
  await page.getByTestId("preferences-error").waitFor();
  result.prefs_error = await text(page.getByTestId("preferences-error"));
  const offsetsField = page.getByLabel("Appointment reminders, before the appointment");
  result.prefs_after = {
    clinic_news: await page.locator("#choice-clinic_news").inputValue(),
    medication_channel: await page.locator("#channel-medication").inputValue(),
    offsets: await offsetsField.inputValue(),
    offsets_invalid: await offsetsField.getAttribute("aria-invalid"),
    offsets_described: await offsetsField.getAttribute("aria-describedby"),
  };
  await offsetsField.fill("24h 2h");
  await page.getByRole("button", { name: "Save preferences" }).click();
  await page.waitForURL(/saved=preferences/);
  result.prefs_saved_offsets_invalid = await page.getByLabel("Appointment reminders, before the appointment").getAttribute("aria-invalid");

  log("Compose: a placeholder that would reach the patient as typed is refused; the text stays");
  await page.goto(`${BASE_URL}/messages/new`);
  const patientName = env("PATIENT_NAME");
  const draft = `Dear {{ patient_name }}, your results from {{ lab_name }} are ready. ${"Please call us. ".repeat(20)}`;
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: patientName });
  await page.getByLabel("Channel").selectOption("telegram");
  await page.getByLabel("Urgent").check();
  await page.getByLabel("Message", { exact: true }).fill(draft);
  await page.getByRole("button", { name: "Send now" }).click();
  await page.getByTestId("compose-error").waitFor();
  result.compose_error = await text(page.getByTestId("compose-error"));
  result.compose_text_kept = (await page.getByLabel("Message", { exact: true }).inputValue()) === draft;
  result.compose_channel_after = await page.getByLabel("Channel").inputValue();
  result.compose_urgent_after = await page.getByLabel("Urgent").isChecked();
  result.compose_patient_after = await page.getByLabel("Patient", { exact: true }).locator("option:checked").textContent();
  await page.screenshot({ path: join(SHOTS, "compose-refused.png"), fullPage: true });

  log("then a direction override left open in the text: refused naming the Message, the text kept");
  const reversed = draft.replace("{{ lab_name }}", "the lab \u202e(030 1234 567)");
  await page.getByLabel("Message", { exact: true }).fill(reversed);
  await page.getByRole("button", { name: "Send now" }).click();
  await page.getByTestId("compose-error").filter({ hasText: "direction control" }).waitFor();
  result.compose_direction_error = await text(page.getByTestId("compose-error"));
  result.compose_direction_kept = (await page.getByLabel("Message", { exact: true }).inputValue()) === reversed;

  log("corrected in place: sent");
  await page.getByLabel("Message", { exact: true }).fill(draft.replace("{{ lab_name }}", "the lab"));
  await page.getByRole("button", { name: "Send now" }).click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  result.composed_for = page.url().split("/").pop();

  log("the current section is marked in the navigation");
  await page.goto(`${BASE_URL}/messages/new`);
  result.current_on_compose = await page.locator('nav [aria-current="page"]').allTextContents();
  await page.goto(`${BASE_URL}/patients/${result.created_patient_id}`);
  result.current_on_patient = await page.locator('nav [aria-current="page"]').allTextContents();

  log("Settings: an unknown timezone is refused naming it; the typed name stays; equal quiet hours explained");
  await page.goto(`${BASE_URL}/settings`);
  result.quiet_hint = await text(page.getByTestId("quiet-hint"));
  // One form for the clinic's offsets and a patient's (lib/offsets.ts): the same label, units.
  const SETTINGS_OFFSETS = "Appointment reminders, before the appointment";
  const settingsLabels = { name: "Clinic name", timezone: "Timezone", offsets: SETTINGS_OFFSETS };
  const form = page.getByTestId("settings-form");
  await form.getByLabel("Clinic name").fill("Harbour Family Clinic");
  await form.getByLabel("Timezone").fill("Mars/Olympus_Mons");
  await form.getByLabel(SETTINGS_OFFSETS).fill("24h, 1h");
  await form.getByRole("button", { name: "Save settings" }).click();
  await page.getByTestId("settings-error").waitFor();
  result.settings_error = await text(page.getByTestId("settings-error"));
  result.settings_after = await fields(settingsLabels, "settings-error");
  await page.getByTestId("settings-form").screenshot({ path: join(SHOTS, "settings-refused.png") });

  log("offsets in Settings' old form (minutes without a unit): named in turn, never read as hours");
  await form.getByLabel("Timezone").fill("Europe/Lisbon");
  await form.getByLabel(SETTINGS_OFFSETS).fill("1440, 60");
  await form.getByRole("button", { name: "Save settings" }).click();
  await page.getByTestId("settings-error").filter({ hasText: "Appointment reminders" }).waitFor();
  result.settings_offsets_error = await text(page.getByTestId("settings-error"));
  result.settings_after_offsets = await fields(settingsLabels, "settings-error");

  log("default quiet hours of no length (22:00 to 22:00, stored as none): refused, saying why");
  const quietBefore = [await form.getByLabel("Default quiet hours start").inputValue(), await form.getByLabel("Default quiet hours end").inputValue()];
  await form.getByLabel(SETTINGS_OFFSETS).fill("1d, 60m");
  await form.getByLabel("Default quiet hours start").fill("22:00");
  await form.getByLabel("Default quiet hours end").fill("22:00");
  await form.getByRole("button", { name: "Save settings" }).click();
  await page.getByTestId("settings-error").filter({ hasText: "no length" }).waitFor();
  result.settings_quiet_error = await text(page.getByTestId("settings-error"));
  await form.getByLabel("Default quiet hours start").fill(quietBefore[0]);
  await form.getByLabel("Default quiet hours end").fill(quietBefore[1]);

  log("corrected, in the patient page's form: saved, and read back in it");
  await form.getByLabel(SETTINGS_OFFSETS).fill("1d, 60m");
  await form.getByRole("button", { name: "Save settings" }).click();
  await page.waitForURL(/\/settings\?saved=1/);
  result.settings_saved_offsets = await page.getByTestId("settings-form").getByLabel(SETTINGS_OFFSETS).inputValue();
  result.settings_saved_name = await page.getByTestId("settings-form").getByLabel("Clinic name").inputValue();

  log("Templates: a Spanish SMS text refused by the service, then checked, stays Spanish SMS, and is saved so");
  await page.goto(`${BASE_URL}/templates`);
  const choices = async () => ({
    kind: await page.getByLabel("Used for").inputValue(),
    locale: await page.getByLabel("Language").inputValue(),
    channel: await page.getByLabel("Channel").inputValue(),
  });
  await page.getByLabel("Name", { exact: true }).fill("Resultados");
  await page.getByLabel("Language").selectOption("es");
  await page.getByLabel("Channel").selectOption("sms");
  await page.getByLabel("Text", { exact: true }).fill("Hola {{ patient_name.__class__ }}");
  await page.getByRole("button", { name: "Save template" }).click();
  await page.getByTestId("template-server-problems").waitFor();
  result.template_refused = await text(page.getByTestId("template-server-problems"));
  result.template_after_refusal = await choices();
  await page.getByLabel("Text", { exact: true }).fill("Hola {{ patient_name }}, sus resultados están listos.");
  await page.getByRole("button", { name: "Check text" }).click();
  await page.getByTestId("template-checked").waitFor();
  result.template_after_check = await choices();
  await page.getByRole("button", { name: "Save template" }).click();
  await page.getByTestId("template-row").filter({ hasText: "Resultados" }).waitFor();
  result.template_row = await text(page.getByTestId("template-row").filter({ hasText: "Resultados" }));

  log("Waitlist: From and Until the same time are refused naming Until; the choices stay");
  await page.goto(`${BASE_URL}/waitlist`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: patientName });
  await page.getByLabel("Wed", { exact: true }).check();
  await page.getByLabel("From", { exact: true }).fill("12:00");
  await page.getByLabel("Until", { exact: true }).fill("12:00");
  await page.getByLabel("Note", { exact: true }).fill("mornings only");
  await page.getByRole("button", { name: "Add to waitlist" }).click();
  await page.getByTestId("waitlist-error").waitFor();
  result.waitlist_error = await text(page.getByTestId("waitlist-error"));
  result.waitlist_after = await fields(
    { patient: "Patient", wed: "Wed", thu: "Thu", earliest: "From", latest: "Until", note: "Note" },
    "waitlist-error",
  );
  result.waitlist_patient_after = await page.getByLabel("Patient", { exact: true }).locator("option:checked").textContent();
  await page.getByLabel("Until", { exact: true }).fill("13:00");
  await page.getByRole("button", { name: "Add to waitlist" }).click();
  await page.getByTestId("waitlist-row").filter({ hasText: patientName }).waitFor();
  result.waitlist_row = await text(page.getByTestId("waitlist-row").filter({ hasText: patientName }));

  log("phone width: no page scrolls sideways");
  await page.setViewportSize({ width: 360, height: 780 });
  result.phone_overflow = {};
  for (const path of ["/patients", `/patients/${result.created_patient_id}`, "/messages", "/messages/new", "/patients/new", "/templates", "/appointments", "/waitlist", "/statistics", "/settings"]) {
    await page.goto(`${BASE_URL}${path}`);
    await page.waitForLoadState("networkidle");
    result.phone_overflow[path] = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  }
  await page.goto(`${BASE_URL}/statistics`);
  await page.screenshot({ path: join(SHOTS, "statistics-phone.png"), fullPage: true });
  // The patient's message preferences: a table of selects, which scrolls in its panel.
  await page.goto(`${BASE_URL}/patients/${result.created_patient_id}`);
  const prefs = page.locator('[data-testid^="pref-"] select');
  result.phone_pref_select_widths = await prefs.evaluateAll((selects) => selects.map((s) => Math.round(s.getBoundingClientRect().width)));
  await page.locator("form", { has: prefs.first() }).screenshot({ path: join(SHOTS, "patient-preferences-phone.png") });

  log("a clinician who is not an admin sees the clinic's defaults read-only");
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  await page.goto(`${BASE_URL}/settings`);
  result.clinician_readonly = await text(page.getByTestId("settings-readonly"));
  result.clinician_name_disabled = await page.getByTestId("settings-form").getByLabel("Clinic name").isDisabled();
  result.clinician_save_buttons = await page.getByRole("button", { name: "Save settings" }).count();
  await page.goto(`${BASE_URL}/templates`);
  result.clinician_template_readonly = await text(page.getByTestId("template-readonly"));
  result.clinician_template_buttons = {
    save: await page.getByRole("button", { name: "Save template" }).count(),
    delete: await page.getByRole("button", { name: /^Delete template/ }).count(),
    check: await page.getByRole("button", { name: "Check text" }).count(),
  };
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "forms-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
