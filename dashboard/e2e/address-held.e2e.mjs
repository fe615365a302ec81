#!/usr/bin/env node
// New patient with a number another patient record holds: said at entry, naming the field and
// what to do, with nothing about the holder; registered without it only when the clinician ticks
// so, and then the patient page reads "not usable" for it, never "ok". Session 27 left it showing
// "sms: ok" while the next message said "no usable channel". Run by
// tests/dashboard/test_address_held_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, THEIRS (another clinic's patient's number),
// MINE (a number of this clinic's patient MINE_ID), SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;
const text = async (locator) => ((await locator.count()) > 0 ? ((await locator.first().textContent()) ?? "").trim() : null);

async function newPatient(name, number) {
  await page.goto(`${BASE_URL}/patients/new`);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Channel").selectOption("sms");
  await page.getByLabel("Address", { exact: true }).fill(number);
  await page.getByLabel("The patient agreed to receive reminders").check();
  await page.getByRole("button", { name: "Create patient" }).click();
}

try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("another record's number: refused at entry, naming the address");
  await newPatient("Held Number", env("THEIRS"));
  await page.getByTestId("patient-error").waitFor();
  result.error = await text(page.getByTestId("patient-error"));
  result.url_after_refusal = page.url();
  result.address_kept = await page.getByLabel("Address", { exact: true }).inputValue();
  result.address_invalid = await page.getByLabel("Address", { exact: true }).getAttribute("aria-invalid");
  result.page_text = await page.locator("main").innerText();
  await page.screenshot({ path: join(SHOTS, "patient-new-address-held.png"), fullPage: true });

  log("registered without it, as chosen: the page says it is not usable");
  await page.getByLabel(/^Register without it/).check();
  await page.getByRole("button", { name: "Create patient" }).click();
  await page.waitForURL(/\/patients\/[0-9a-f-]{36}$/);
  result.created_id = page.url().split("/").pop();
  result.badges = await page.locator(".badge").allTextContents();
  result.held_notice = await text(page.getByTestId("held-elsewhere"));
  result.patient_text = await page.locator("main").innerText();
  await page.getByTestId("held-elsewhere").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "patient-address-held.png"), fullPage: true });

  log("the clinic's own patient's number: named, with a link to them");
  await newPatient("Twice Registered", env("MINE"));
  await page.getByTestId("patient-error").waitFor();
  result.own_error = await text(page.getByTestId("patient-error"));
  result.own_link = await page.getByTestId("held-by-own-patient").getByRole("link").getAttribute("href");
  result.own_offers_invite = await page.getByTestId("invite-holder").count();
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "address-held-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
