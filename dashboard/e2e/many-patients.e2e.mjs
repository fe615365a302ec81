#!/usr/bin/env node
// A clinic with more patients than a page lists (520 before "Zed Late" by name): the patients
// list says how many it shows of how many and how to find the others; search finds the last
// one; from that patient's page, Compose message, Appointments and Waitlist open with them
// chosen (the pickers list the first 500 by name: they offered "Choose a patient" and a list
// without them), with a hint under each picker; the waitlist takes them; the Scheduled messages
// list of more messages than it shows says how many it shows of how many. Run by
// tests/dashboard/test_many_patients_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, LATE_PATIENT_ID, SCREENSHOT_DIR,
// RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const late = env("LATE_PATIENT_ID");
const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
try {
  const page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  log("the patients list of a large clinic");
  result.list = {
    caption: await text(page.locator("table caption")),
    rows: await page.getByTestId("patient-row").count(),
    late_listed: (await page.getByRole("link", { name: "Zed Late" }).count()) > 0,
  };
  await page.screenshot({ path: join(SHOTS, "many-patients-list.png"), fullPage: false });
  await page.getByRole("search").getByLabel(/Search/).fill("Zed");
  await page.getByRole("search").getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/q=Zed/);
  result.search = {
    caption: await text(page.locator("table caption")),
    rows: await page.getByTestId("patient-row").count(),
  };
  await page.getByRole("link", { name: "Zed Late" }).click();
  await page.waitForURL(`${BASE_URL}/patients/${late}`);

  const picker = async (button, select, path) => {
    await page.goto(`${BASE_URL}/patients/${late}`);
    await page.locator("main").getByRole("link", { name: button, exact: true }).click();
    // The link navigates on the client: "networkidle" could hold before it had begun (CI read
    // the patient's own page), so wait for the form's address and its picker.
    await page.waitForURL((url) => url.pathname === path);
    const chosen = page.locator(select);
    await chosen.waitFor();
    return {
      url: new URL(page.url()).pathname + new URL(page.url()).search,
      value: await chosen.inputValue(),
      label: await text(chosen.locator("option:checked")),
      options: await chosen.locator("option").count(),
      hint: (await page.getByTestId("picker-limit").count()) ? await text(page.getByTestId("picker-limit")) : null,
    };
  };
  log("compose, appointments and waitlist from the last patient's page");
  result.compose = await picker("Compose message", "#patient_id", "/messages/new");
  await page.screenshot({ path: join(SHOTS, "many-patients-compose.png"), fullPage: false });
  result.appointment = await picker("Appointments", "#appt-patient", "/appointments");
  result.waitlist = await picker("Waitlist", "#wl-patient", "/waitlist");
  await page.getByRole("button", { name: "Add to waitlist" }).click();
  const row = page.getByTestId("waitlist-row").filter({ hasText: "Zed Late" });
  await row.first().waitFor({ timeout: 15000 }).catch(() => undefined);
  result.waitlisted = await row.count();
  await page.screenshot({ path: join(SHOTS, "many-patients-waitlist.png"), fullPage: true });

  // More messages than the list shows: it said "200 messages", the sent ones unseen.
  const messages = async (query) => {
    await page.goto(`${BASE_URL}/messages${query}`);
    return { caption: await text(page.locator("table caption")), rows: await page.getByTestId("message-row").count() };
  };
  log("the scheduled messages of a large clinic");
  result.messages = await messages("");
  await page.screenshot({ path: join(SHOTS, "many-patients-messages.png"), fullPage: false });
  result.messages_pending = await messages("?status=pending");
  result.messages_sent = await messages("?status=sent");
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
