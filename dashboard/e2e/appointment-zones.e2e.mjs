#!/usr/bin/env node
// Appointment times on the dashboard for a clinic in Madrid: the clinic's own times, and under
// each the patient's own time where their zone shows another wall clock then, in the list and
// under the New appointment form's start as it is typed. The appointments page (one patient's)
// and the patient's page, in headless Chromium. Run by
// tests/dashboard/test_appointment_zones_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENTS (JSON: {label: patient id}),
// SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, env, launch, log, SHOTS, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const [label, id] of Object.entries(JSON.parse(env("PATIENTS")))) {
    await page.goto(`${BASE_URL}/appointments?patient=${id}`);
    const rows = page.getByTestId("appointment-row");
    await rows.first().waitFor();
    const when = [];
    for (const row of await rows.all()) {
      when.push((await row.locator("td[data-label=When]").innerText()).trim());
    }
    // The New appointment form, opened on this patient: their own time of the start typed (the
    // list named it only once the appointment was made).
    const formNote = page.getByTestId("appointment-form").getByTestId("patient-time");
    const formNoteBefore = (await formNote.count()) ? (await formNote.innerText()).trim() : null;
    await page.getByLabel(/^Starts at/).fill("2027-03-20T09:00");
    const formNoteTyped = (await formNote.count()) ? (await formNote.innerText()).trim() : null;
    await page.screenshot({ path: join(SHOTS, `appointment-zones-${label}.png`), fullPage: true });
    await page.goto(`${BASE_URL}/patients/${id}`);
    const section = page.locator("section[aria-labelledby=appointments-h]");
    await section.waitFor();
    await section.scrollIntoViewIfNeeded();
    result[label] = {
      when,
      formNoteBefore,
      formNoteTyped,
      patientPage: (await section.locator("li").allInnerTexts()).map((t) => t.trim()),
      // Which clock each list of the page is in (shown when the patient's zone is not the clinic's).
      captions: {
        next: await page.locator("section[aria-labelledby=next-h] [data-testid^=zone-caption]").allInnerTexts(),
        messages: await page.locator("section[aria-labelledby=messages-h] [data-testid^=zone-caption]").allInnerTexts(),
        doses: await page.locator("section[aria-labelledby=doses-h] [data-testid^=zone-caption]").allInnerTexts(),
      },
    };
    await section.screenshot({ path: join(SHOTS, `appointment-zones-${label}-patient.png`) });
    log(`patient ${label}`);
  }
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "appointment-zones-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
