#!/usr/bin/env node
// The dashboard's API key is refused by the MedRemind service (revoked, mistyped): a template
// check and a patient's next-message preview say so, and who fixes it, not "did not answer ...
// try again in a moment" (which sent clinicians round in circles). Nothing is saved.
// Run by tests/dashboard/test_service_key_refused_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
try {
  const page = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));
  log("Templates: Check text with the key refused");
  await page.goto(`${BASE_URL}/templates`);
  await page.getByLabel("Name", { exact: true }).fill("Results");
  await page.getByLabel("Text", { exact: true }).fill("Hello {{ patient_name }}, your results are ready.");
  await page.getByRole("button", { name: "Save template" }).click();
  await page.getByTestId("template-server-problems").waitFor();
  await page.screenshot({ path: join(SHOTS, "service-key-refused-template.png"), fullPage: true });
  result.template = await text(page.getByTestId("template-server-problems"));
  result.template_rows = await page.getByTestId("template-row").count();
  log("a patient's next automatic message");
  await page.goto(`${BASE_URL}/patients/${env("PATIENT_ID")}`);
  await page.screenshot({ path: join(SHOTS, "service-key-refused-preview.png"), fullPage: true });
  result.patient_page = await text(page.locator("main"));
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
