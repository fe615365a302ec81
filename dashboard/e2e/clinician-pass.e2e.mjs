#!/usr/bin/env node
// A clinician's pass over appointments, compose's send time and the header on a phone.
// Appointments: submissions a script could forge (the browser's own checks skipped) are refused
// naming the field and how to fix it (a day that does not exist, minutes that are not a number,
// another clinic's patient), with everything typed kept; the corrected form creates the
// appointment. A forged reschedule time names New time. Compose: a forged send time names the
// Date and time field. The header: one line on a phone with the navigation behind a Menu button
// (keyboard: Enter opens, Escape closes and returns focus), the full bar on a wide screen.
// Run by tests/dashboard/test_clinician_pass_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, PATIENT_NAME (a patient of the clinic),
// OTHER_PATIENT_ID (another clinic's patient), SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, hydrated, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

/** A field's value, and whether it is marked invalid and described by `errorId`. */
async function field(locator, errorId) {
  return {
    value: await locator.inputValue(),
    invalid: (await locator.getAttribute("aria-invalid")) === "true",
    described: ((await locator.getAttribute("aria-describedby")) ?? "").split(" ").includes(errorId),
  };
}

/** Let the next submission through without the browser's checks, as a script would send it.
 * Once hydrated: hydration (and each re-render, as after a refusal) sets an input's type again. */
async function unchecked(form, inputs) {
  for (const element of [form, ...inputs]) await hydrated(element);
  await form.evaluate((f) => (f.noValidate = true));
  for (const input of inputs) await input.evaluate((i) => (i.type = "text"));
}

try {
  page = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));
  const patientName = env("PATIENT_NAME");

  log("appointments: a day that does not exist is refused naming Starts at; everything typed stays");
  await page.goto(`${BASE_URL}/appointments`);
  const form = page.getByTestId("appointment-form");
  const starts = form.getByLabel(/^Starts at/);
  result.default_start = await starts.inputValue();
  // The confirmation's live region is on the page before there is anything to confirm.
  result.status_regions_before = await page.locator('[role="status"][aria-live="polite"]').count();
  const minutes = form.getByLabel("Minutes", { exact: true });
  await unchecked(form, [starts, minutes]);
  await form.getByLabel("Patient", { exact: true }).selectOption({ label: patientName });
  await starts.fill("2026-02-30T10:00");
  await minutes.fill("45");
  await form.getByLabel("Location", { exact: true }).fill("Room 7");
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").waitFor();
  result.time_error = await text(page.getByTestId("appointment-error"));
  result.after_time = {
    starts_at: await field(starts, "appointment-error"),
    minutes: await field(minutes, "appointment-error"),
    location: await field(form.getByLabel("Location", { exact: true }), "appointment-error"),
    patient: await form.getByLabel("Patient", { exact: true }).locator("option:checked").textContent(),
  };
  await page.screenshot({ path: join(SHOTS, "appointment-refused.png"), fullPage: true });

  log("minutes that are not a number are refused naming Minutes");
  await unchecked(form, [starts, minutes]);
  await starts.fill("2030-06-03T09:30");
  await minutes.fill("half an hour");
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").filter({ hasText: "Minutes:" }).waitFor();
  result.minutes_error = await text(page.getByTestId("appointment-error"));
  result.after_minutes = { starts_at: await field(starts, "appointment-error"), minutes: await field(minutes, "appointment-error") };

  log("another clinic's patient is refused naming Patient");
  await unchecked(form, [minutes]);
  await minutes.fill("45");
  const select = form.getByLabel("Patient", { exact: true });
  await forge(select, env("OTHER_PATIENT_ID"));
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").filter({ hasText: "Patient:" }).waitFor();
  result.patient_error = await text(page.getByTestId("appointment-error"));
  result.patient_invalid = await form.getByLabel("Patient", { exact: true }).getAttribute("aria-invalid");
  result.patient_after = await form.getByLabel("Patient", { exact: true }).locator("option:checked").textContent();
  result.kept_after_patient = { location: await form.getByLabel("Location", { exact: true }).inputValue(), minutes: await minutes.inputValue() };

  log("corrected, the appointment is created");
  await form.getByLabel("Patient", { exact: true }).selectOption({ label: patientName });
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-row").filter({ hasText: "Room 7" }).waitFor();
  result.created_row = await text(page.getByTestId("appointment-row").filter({ hasText: "Room 7" }));
  result.error_after_create = await page.getByTestId("appointment-error").count();
  result.created_notice = await text(page.getByTestId("appointment-created"));
  // Announced: its text is in a role=status region (a polite live region).
  result.created_notice_announced = await page.getByRole("status").filter({ hasText: "Appointment created" }).count();
  // Shown once: the address loses ?created= at once, so a reload does not confirm it again.
  await page.waitForFunction(() => !new URL(location.href).searchParams.has("created"));
  result.url_after_create = page.url().replace(BASE_URL, "");
  await page.screenshot({ path: join(SHOTS, "appointment-created.png"), fullPage: true });

  log("the confirmation goes with the next submission, here one refused");
  await form.getByLabel("Patient", { exact: true }).selectOption({ label: patientName });
  await unchecked(form, [minutes]);
  await minutes.fill("an hour");
  await form.getByRole("button", { name: "Create appointment" }).click();
  await page.getByTestId("appointment-error").filter({ hasText: "Minutes:" }).waitFor();
  result.notice_after_refusal = await page.getByTestId("appointment-created").count();
  await page.reload();
  await page.getByRole("heading", { name: "Appointments", level: 1 }).waitFor();
  result.notice_after_reload = await page.getByTestId("appointment-created").count();

  log("a forged new time names New time");
  const row = page.getByTestId("appointment-row").filter({ hasText: "Room 7" });
  const move = row.getByLabel("New time");
  await unchecked(row.locator("form").first(), [move]);
  await move.fill("next Tuesday");
  await row.getByRole("button", { name: "Move" }).click();
  await page.waitForURL(/error=reschedule_time/);
  result.reschedule_error = await text(page.getByTestId("appointments-error"));

  log("compose: a forged send time names Date and time");
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: patientName });
  await page.getByLabel(/^At a time/).check();
  const sendAt = page.getByLabel(/^Date and time in/);
  await unchecked(page.locator("form", { has: sendAt }), [sendAt]);
  await sendAt.fill("2026-04-31T08:00");
  await page.getByLabel("Message", { exact: true }).fill("Your results are ready.");
  await page.getByRole("button", { name: /^(Send|Schedule)/ }).click();
  await page.getByTestId("compose-error").waitFor();
  result.compose_time_error = await text(page.getByTestId("compose-error"));
  result.compose_time_field = await field(sendAt, "compose-error");

  log("the header on a phone: one line, the navigation behind Menu");
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${BASE_URL}/patients`);
  const menu = page.getByRole("button", { name: "Menu" });
  result.phone_header_height = Math.round((await page.locator("header").boundingBox()).height);
  result.phone_menu_expanded = await menu.getAttribute("aria-expanded");
  result.phone_nav_visible = await page.getByRole("navigation", { name: "Main" }).isVisible();
  await page.screenshot({ path: join(SHOTS, "header-phone.png") });
  await menu.click();
  result.phone_menu_open = {
    expanded: await menu.getAttribute("aria-expanded"),
    links: await page.getByRole("navigation", { name: "Main" }).getByRole("link").count(),
    clinic: await page.getByTestId("clinic-name").isVisible(),
    sign_out: await page.getByRole("button", { name: "Sign out" }).isVisible(),
    overflow: await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
  };
  await page.screenshot({ path: join(SHOTS, "header-phone-open.png") });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Appointments" }).click();
  await page.waitForURL(`${BASE_URL}/appointments`);
  await page.getByRole("heading", { name: "Appointments", level: 1 }).waitFor();
  result.phone_menu_after_navigation = await menu.getAttribute("aria-expanded");
  // The appointments table scrolls sideways in its panel; its caption wraps on the screen.
  const caption = await page.locator("caption").first().boundingBox();
  result.phone_caption_right = Math.round(caption.x + caption.width);
  // Each appointment is a block of labelled lines on a phone: its actions are on the screen,
  // not beyond its right edge.
  const phoneRow = page.getByTestId("appointment-row").filter({ hasText: "Room 7" });
  const cancel = await phoneRow.getByRole("button", { name: /^Cancel appointment/ }).boundingBox();
  const moveButton = await phoneRow.getByRole("button", { name: "Move" }).boundingBox();
  result.phone_actions_right = Math.round(Math.max(cancel.x + cancel.width, moveButton.x + moveButton.width));
  result.phone_when_label = await phoneRow.locator("td").first().evaluate((td) => getComputedStyle(td, "::before").content);
  await page.screenshot({ path: join(SHOTS, "appointments-phone.png"), fullPage: true });

  log("keyboard: the skip link, then Menu; Enter opens it, Escape closes it and returns focus");
  await page.goto(`${BASE_URL}/appointments`);
  await page.keyboard.press("Tab");
  result.keyboard_first = await text(page.locator(":focus"));
  await page.keyboard.press("Tab");
  result.keyboard_second = await text(page.locator(":focus"));
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  result.keyboard_in_menu = await text(page.locator(":focus"));
  await page.keyboard.press("Escape");
  result.keyboard_after_escape = {
    focus: await text(page.locator(":focus")),
    expanded: await menu.getAttribute("aria-expanded"),
  };

  log("a wide screen: the whole bar, no Menu button");
  await page.setViewportSize({ width: 1280, height: 900 });
  result.wide = {
    menu_button: await menu.isVisible(),
    nav: await page.getByRole("navigation", { name: "Main" }).isVisible(),
    sign_out: await page.getByRole("button", { name: "Sign out" }).isVisible(),
    header_height: Math.round((await page.locator("header").boundingBox()).height),
  };
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "clinician-pass-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
