#!/usr/bin/env node
// A patient's message preferences saved from two tabs. Found by hand (session 30): a tab loaded
// before a colleague's (or another tab's) save put every category back as it had loaded them when
// it saved its own change: the other change was lost without a word. Now a save writes only what
// it changed, and a change of something changed since the page loaded is refused, saying so. The
// page refreshes itself every 3 s: a form being edited keeps what it showed; an untouched one
// shows what is stored now.
// Run by tests/dashboard/test_preferences_two_tabs_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const browser = await launch();
const result = {};
let first;
const patientPage = `${BASE_URL}/patients/${env("PATIENT_ID")}`;

/** Choose `value` in select `id` of the preferences form and save; the page's answer. */
async function save(page, id, value) {
  const form = page.getByTestId("preferences-form");
  await form.locator(`#${id}`).selectOption(value);
  // The tab's address after this save: each save's redirect carries its own `at`.
  const before = page.url();
  await form.getByRole("button", { name: "Save preferences" }).click();
  await page.waitForURL((url) => url.href !== before && /saved=preferences|error=/.test(url.href));
  await page.waitForLoadState("networkidle");
  // In main: Next's route announcer, an alert too, reads the new page's title.
  const alert = page.locator("main").getByRole("alert").filter({ hasText: /\S/ });
  if (!page.url().includes("error=")) return "saved";
  await alert.first().waitFor();
  return ((await alert.first().textContent()) ?? "").trim();
}

try {
  first = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  const second = await first.context().newPage();
  await first.goto(patientPage);
  await second.goto(patientPage);
  await first.waitForLoadState("networkidle");
  await second.waitForLoadState("networkidle");
  log("the first tab sends medication reminders by SMS");
  result.first = await save(first, "channel-medication", "sms");
  // The first tab is edited from here on (not saved): the page's refresh every 3 s must not
  // change what it shows or what it says it showed.
  log("the first tab starts editing appointment reminders");
  await first.getByTestId("preferences-form").locator("#pref-offsets").fill("24h");
  log("the second tab, loaded before, turns clinic news off");
  result.second = await save(second, "choice-clinic_news", "out");
  // Past a refresh of the first tab (AutoRefresh: 3 s), which used to put the second tab's value
  // in its hidden "shown" fields while its select still showed the old one.
  await first.waitForTimeout(3500);
  result.edited_shows = await first.getByTestId("preferences-form").locator("#choice-clinic_news").inputValue();
  log("the first tab, edited since before that, turns clinic news on");
  result.stale = await save(first, "choice-clinic_news", "in");
  result.stale_shows = await first.getByTestId("preferences-form").locator("#choice-clinic_news").inputValue();
  log("the first tab, reloaded by the refusal, turns clinic news on");
  result.again = await save(first, "choice-clinic_news", "in");
  log("the second tab, untouched since its save, shows it after its refresh");
  await second
    .getByTestId("preferences-form")
    .locator("#choice-clinic_news")
    .and(second.locator("select:has(option[value='in']:checked)"))
    .waitFor({ timeout: 15000 });
  result.refreshed_shows = await second.getByTestId("preferences-form").locator("#choice-clinic_news").inputValue();
  await first.screenshot({ path: join(SHOTS, "preferences-two-tabs.png"), fullPage: false });
} catch (error) {
  if (first) await first.screenshot({ path: join(SHOTS, "preferences-two-tabs-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
