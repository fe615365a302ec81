#!/usr/bin/env node
// Send now and the API's newer checks, as a clinician of a clinic far from UTC.
// - Scheduled messages: a medication reminder hours before its dose offers no Send now (one click
//   sent it at once: the patient takes the dose early) but a message to the patient instead; a
//   free text due later asks first, naming its time and how early, and only "Yes, send now"
//   sends; a forged confirmation of the reminder, or of another time, is refused. A failed
//   reminder of a dose whose time has passed offers no Re-send (it would be refused).
// - Appointments: a booking at the time of the patient's live appointment is refused in the form,
//   linking that one; moving another there is refused, that one outlined (the API's 409); so is
//   a booking for a patient who has not consented yet.
// - Settings and New patient: Etc/GMT+5 and EST are refused naming why (the API's 422).
// - Compose: WhatsApp's {{1}} and a text of zero-width spaces are refused in the form (the API's
//   422), the text kept; so are a send time, a booking and a move already past (the API's 422).
// Run by tests/dashboard/test_send_now_and_api_checks_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, DOSE_PATIENT, FREE_PATIENT, DOSE_MESSAGE_ID,
// APPT_PATIENT, INVITED_PATIENT, APPT_TIME, PAST_TIME (datetime-local, clinic's zone), SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const focused = (page) => page.evaluate(() => (document.activeElement?.textContent ?? "").trim());
const browser = await launch();
const result = {};
let page;

try {
  page = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));

  log("Scheduled messages: the dose reminder offers a message instead of Send now");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  const doseRow = page.getByTestId("message-row").filter({ hasText: env("DOSE_PATIENT") });
  const freeRow = page.getByTestId("message-row").filter({ hasText: env("FREE_PATIENT") });
  result.dose_send_now_buttons = await doseRow.getByRole("button", { name: /^Send now/ }).count();
  result.dose_note = await text(doseRow.getByTestId("dose-not-due"));
  result.dose_link = await doseRow.getByTestId("dose-not-due").getByRole("link").getAttribute("href");

  log("the free text asks first; Keep its time keeps it");
  const sendFree = freeRow.getByRole("button", { name: `Send now: message to ${env("FREE_PATIENT")}` });
  await sendFree.click();
  await freeRow.getByTestId("send-now-confirm").waitFor();
  result.question = await text(freeRow.getByTestId("send-now-confirm").locator("p").first());
  result.quiet_note = await text(freeRow.getByTestId("send-now-confirm-note"));
  result.focus_on_question = await focused(page);
  await page.screenshot({ path: join(SHOTS, "send-now-asks.png"), fullPage: true });
  await page.keyboard.press("Tab"); // Keep its time
  await page.keyboard.press("Enter");
  await sendFree.waitFor();
  await page.waitForTimeout(100);
  result.focus_after_keep = await focused(page);

  log("a forged confirmation of the dose reminder is refused");
  await sendFree.click();
  await forge(freeRow.getByTestId("send-now-confirm").locator('input[name="id"]'), env("DOSE_MESSAGE_ID"));
  await freeRow.getByRole("button", { name: "Yes, send now" }).click();
  await page.getByRole("alert").filter({ hasText: "Not sent" }).waitFor();
  result.forged_dose_error = await text(page.getByRole("alert").filter({ hasText: "Not sent" }));

  log("a confirmation of another time than the message's is refused");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  await sendFree.click();
  const confirmedTime = freeRow.getByTestId("send-now-confirm").locator('input[name="confirmed_time"]');
  await forge(confirmedTime, String(Number(await confirmedTime.inputValue()) - 60000));
  await freeRow.getByRole("button", { name: "Yes, send now" }).click();
  await page.getByRole("alert").filter({ hasText: "time has changed" }).waitFor();
  result.moved_error = await text(page.getByRole("alert").filter({ hasText: "time has changed" }));

  log("confirmed: sent now");
  await page.goto(`${BASE_URL}/messages?status=pending`);
  await sendFree.click();
  await freeRow.getByRole("button", { name: "Yes, send now" }).click();
  await freeRow.getByRole("button", { name: /^Send now/ }).waitFor({ state: "detached" });
  result.free_sent = true;

  log("a failed reminder of a dose whose time has passed is not offered for re-sending");
  await page.goto(`${BASE_URL}/messages?status=failed`);
  const failedRow = page.getByTestId("message-row").filter({ hasText: env("DOSE_PATIENT") });
  result.late_resend_buttons = await failedRow.getByRole("button", { name: /^Re-send/ }).count();
  result.late_resend_note = await text(failedRow.getByTestId("resend-closed"));

  log("Appointments: a second booking at the patient's time is refused, naming the first");
  await page.goto(`${BASE_URL}/appointments`);
  const form = page.getByTestId("appointment-form");
  await form.getByLabel("Patient").selectOption({ label: env("APPT_PATIENT") });
  await form.getByLabel(/^Starts at/).fill(env("APPT_TIME"));
  await form.getByLabel("Location").fill("Room 7");
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").waitFor();
  result.appointment_error = await text(page.getByTestId("appointment-error"));
  result.appointment_link = await page.getByTestId("appointment-existing").getAttribute("href");
  result.appointment_kept = {
    starts_at: await form.getByLabel(/^Starts at/).inputValue(),
    location: await form.getByLabel("Location").inputValue(),
    invalid: await form.getByLabel(/^Starts at/).getAttribute("aria-invalid"),
  };
  await page.screenshot({ path: join(SHOTS, "appointment-same-time.png"), fullPage: true });

  log("moving the patient's other appointment onto it is refused, the first outlined");
  const rows = page.getByTestId("appointment-row").filter({ hasText: env("APPT_PATIENT") });
  const later = rows.nth(1);
  await later.getByLabel("New time").fill(env("APPT_TIME"));
  await later.getByRole("button", { name: "Move" }).click();
  await page.getByTestId("appointments-error").waitFor();
  result.move_error = await text(page.getByTestId("appointments-error"));
  result.move_named = new URL(page.url()).searchParams.get("existing");
  result.outlined = await page.evaluate(() => {
    const row = document.querySelector('tr[data-named="true"]');
    return row ? { id: row.id, outline: getComputedStyle(row).outlineStyle } : null;
  });
  await page.screenshot({ path: join(SHOTS, "appointment-move-same-time.png"), fullPage: true });

  log("a booking and a move into the past are refused (the API's 422)");
  await page.goto(`${BASE_URL}/appointments`);
  await form.getByLabel("Patient").selectOption({ label: env("APPT_PATIENT") });
  await form.getByLabel(/^Starts at/).fill(env("PAST_TIME"));
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").filter({ hasText: "has passed" }).waitFor();
  result.past_booking_error = await text(page.getByTestId("appointment-error"));
  await rows.nth(1).getByLabel("New time").fill(env("PAST_TIME"));
  await rows.nth(1).getByRole("button", { name: "Move" }).click();
  await page.getByTestId("appointments-error").filter({ hasText: "has passed" }).waitFor();
  result.past_move_error = await text(page.getByTestId("appointments-error"));

  log("a patient who has not consented yet is not booked (the API's 409)");
  await page.goto(`${BASE_URL}/appointments`);
  await form.getByLabel("Patient").selectOption({ label: env("INVITED_PATIENT") });
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").filter({ hasText: "consented" }).waitFor();
  result.invited_error = await text(page.getByTestId("appointment-error"));
  result.invited_marked = await form.getByLabel("Patient").getAttribute("aria-invalid");

  log("Settings: Etc/GMT+5 is refused, saying which way it counts");
  await page.goto(`${BASE_URL}/settings`);
  const settings = page.getByTestId("settings-form");
  result.settings_zone_before = await settings.getByLabel("Timezone").inputValue();
  await settings.getByLabel("Timezone").fill("Etc/GMT+5");
  await settings.getByRole("button", { name: "Save settings" }).click();
  await page.getByTestId("settings-error").waitFor();
  result.settings_zone_error = await text(page.getByTestId("settings-error"));
  result.settings_zone_kept = await settings.getByLabel("Timezone").inputValue();

  log("New patient: EST is refused, naming the place's zone");
  await page.goto(`${BASE_URL}/patients/new`);
  await page.getByLabel("Name", { exact: true }).fill("Eve Eastern");
  await page.getByLabel("Channel").selectOption("sms");
  await page.getByLabel("Address").fill("+1 415 555 0149");
  await page.getByLabel("Timezone").fill("EST");
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.getByTestId("patient-error").waitFor();
  result.patient_zone_error = await text(page.getByTestId("patient-error"));

  log("Compose: WhatsApp's {{1}} and zero-width spaces are refused, the text kept");
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: env("FREE_PATIENT") });
  const message = page.getByLabel("Message", { exact: true });
  await message.fill("Your code is {{1}}");
  result.markup_warning = await text(page.getByTestId("markup-warning"));
  await page.getByRole("button", { name: "Send now" }).click();
  await page.getByTestId("compose-error").waitFor();
  result.markup_error = await text(page.getByTestId("compose-error"));
  result.markup_kept = await message.inputValue();
  result.markup_invalid = await message.getAttribute("aria-invalid");
  log("Compose at a time already past is refused, not sent at once");
  await message.fill("Your results are ready.");
  await page.getByLabel(/^At a time/).check();
  await page.getByLabel(/^Date and time in/).fill(env("PAST_TIME"));
  await page.getByRole("button", { name: "Schedule" }).click();
  await page.getByTestId("compose-error").filter({ hasText: "has passed" }).waitFor();
  result.past_send_error = await text(page.getByTestId("compose-error"));
  result.past_send_invalid = await page.getByLabel(/^Date and time in/).getAttribute("aria-invalid");
  await page.getByLabel("Now", { exact: true }).check();
  await message.fill("\u200b\u200b\u2060");
  await page.getByRole("button", { name: "Send now" }).click();
  await page.getByTestId("compose-error").filter({ hasText: "shows nothing" }).waitFor();
  result.invisible_error = await text(page.getByTestId("compose-error"));
  result.invisible_described = await message.getAttribute("aria-describedby");
  await page.screenshot({ path: join(SHOTS, "compose-invisible.png"), fullPage: true });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "send-now-and-api-checks-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
