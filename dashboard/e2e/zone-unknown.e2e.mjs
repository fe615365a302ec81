#!/usr/bin/env node
// A patient stored in Etc/Unknown ("Factory" before the API refused it): their page opens (it
// failed as a whole: PostgreSQL and Intl both refuse the zone), says no reminder is planned for
// them and how to set their zone, and shows its times in the clinic's zone; a patient in a real
// zone gets no such alert. Run by tests/dashboard/test_zone_unknown_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, LOST_PATIENT_ID, FINE_PATIENT_ID,
// SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};

try {
  const page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const [name, id] of [["lost", env("LOST_PATIENT_ID")], ["fine", env("FINE_PATIENT_ID")]]) {
    log(`the ${name} patient's page`);
    const response = await page.goto(`${BASE_URL}/patients/${id}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    const alert = page.getByTestId("patient-zone-unknown");
    result[name] = {
      status: response?.status() ?? null,
      heading: await text(page.getByRole("heading", { level: 1 })),
      alerts: await alert.count(),
      alert: (await alert.count()) ? await text(alert) : null,
    };
    if (name === "lost") await page.screenshot({ path: join(SHOTS, "zone-unknown.png"), fullPage: true });
  }
} finally {
  await browser.close();
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
}
