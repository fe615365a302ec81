#!/usr/bin/env node
// The patients list's search as a clinician types it: each of QUERIES (a JSON list) is typed
// into the search box and submitted, and the names listed are reported, with the page's
// heading (a search must never fail the page). Found by hand: "Lucia" did not find "Lucía" nor
// "munoz" "Muñoz", and a number typed as the patient says it ("612 345 678", "(415) 555-0100")
// found nobody, the number being stored as +34612345678. Run by
// tests/dashboard/test_patient_search_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, QUERIES, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SHOTS, env, launch, log, signIn } from "./browser.mjs";

const queries = JSON.parse(env("QUERIES"));
const browser = await launch();
const result = { searches: [] };
let page;
try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  for (const [index, query] of queries.entries()) {
    log(`search ${index + 1} of ${queries.length}`);
    const box = page.getByRole("search").getByLabel(/Search/);
    await box.fill(query);
    await Promise.all([
      page.waitForURL((url) => url.searchParams.get("q") === query),
      page.getByRole("search").getByRole("button", { name: "Search" }).click(),
    ]);
    await page.waitForLoadState("networkidle");
    const names = await page.getByTestId("patient-row").getByRole("link").allTextContents();
    result.searches.push({
      query,
      heading: ((await page.locator("h1").first().textContent()) ?? "").trim(),
      names: names.map((n) => n.trim()).sort(),
    });
    if (index === 0) await page.screenshot({ path: join(SHOTS, "patient-search-accents.png") });
    if (query.startsWith("(")) await page.screenshot({ path: join(SHOTS, "patient-search-phone.png") });
  }
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "patient-search-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
