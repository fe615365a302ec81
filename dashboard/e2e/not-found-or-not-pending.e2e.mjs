#!/usr/bin/env node
// What an action on a row says when the row is not there to act on, as a clinician with two tabs
// and a forged form meet it: the row changed in the other tab ("no longer pending", "re-sent
// already", "deleted already"), or the id is none of the clinic's (another clinic's id reads
// exactly as one that does not exist). Found by hand (session 30): Re-send and a template's Delete
// with a forged id said "That item was not found.", naming nothing. Run by
// tests/dashboard/test_not_found_or_not_pending_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, PATIENT_NAME, TWO_TABS_ID, OTHER_PENDING_ID,
// OTHER_FAILED_ID, OTHER_TEMPLATE_ID, MISSING_ID, TEMPLATE_NAME, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, holdRefreshes, hydrated, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let tab;
// The page's refusal: Next's route announcer is an empty alert of its own.
const alertOf = (page) => page.getByRole("alert").filter({ hasText: /\S/ }).first();

/** Press `button` of `row` on `url` with `id` forged into it; the alert's text. */
async function forged(page, url, rowOf, button, id) {
  await page.goto(url);
  const row = rowOf(page);
  await forge(row.locator('input[name="id"]'), id);
  await row.first().getByRole("button", { name: button }).click();
  await alertOf(page).waitFor();
  return text(alertOf(page));
}

try {
  tab = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));
  const other = await tab.context().newPage();
  const pending = `${BASE_URL}/messages?status=pending`;
  const mine = (page) => page.getByTestId("message-row").filter({ hasText: env("PATIENT_NAME") });
  const twoTabsRow = (page) => page.locator(`[data-testid="message-row"][data-message-id="${env("TWO_TABS_ID")}"]`);

  log("two tabs: a message cancelled in one, then Cancel in the other");
  await tab.goto(pending);
  // The other tab still shows the message when Cancel is pressed there (its 3-s refresh would
  // take the row away first, as it should, but that is not this step).
  const release = await holdRefreshes(other);
  await other.goto(pending);
  const staleCancel = twoTabsRow(other).getByRole("button", { name: /^Cancel message/ });
  await hydrated(staleCancel);
  await twoTabsRow(tab).getByRole("button", { name: /^Cancel message/ }).click();
  await twoTabsRow(tab).waitFor({ state: "detached" });
  await staleCancel.click();
  await alertOf(other).waitFor();
  result.stale_cancel = await text(alertOf(other));
  await release();
  await other.screenshot({ path: join(SHOTS, "two-tabs-no-longer-pending.png") });

  log("Cancel with another clinic's id, and with an id that does not exist");
  const cancel = /^Cancel message/;
  result.cancel_foreign = await forged(tab, pending, mine, cancel, env("OTHER_PENDING_ID"));
  result.cancel_missing = await forged(tab, pending, mine, cancel, env("MISSING_ID"));

  log("Re-send with another clinic's failed message, and with an id that does not exist");
  const failed = `${BASE_URL}/messages?status=failed`;
  const resend = /^Re-send/;
  result.resend_foreign = await forged(tab, failed, mine, resend, env("OTHER_FAILED_ID"));
  result.resend_missing = await forged(tab, failed, mine, resend, env("MISSING_ID"));
  await tab.screenshot({ path: join(SHOTS, "resend-forged-not-found.png") });

  log("two tabs: a template version deleted in one, then Delete in the other");
  const templates = `${BASE_URL}/templates`;
  const deleteButton = new RegExp(`^Delete template ${env("TEMPLATE_NAME")}`);
  await tab.goto(templates);
  await other.goto(templates);
  await hydrated(other.getByRole("button", { name: deleteButton }));
  await tab.getByRole("button", { name: deleteButton }).click();
  await tab.getByRole("button", { name: deleteButton }).waitFor({ state: "detached" });
  await other.getByRole("button", { name: deleteButton }).click();
  await alertOf(other).waitFor();
  result.stale_delete = await text(alertOf(other));
  await other.screenshot({ path: join(SHOTS, "two-tabs-template-deleted.png") });

  log("Delete with another clinic's template id, and with an id that does not exist");
  const anyTemplate = (page) => page.locator("tr").filter({ has: page.getByRole("button", { name: /^Delete template/ }) });
  result.delete_foreign = await forged(tab, templates, anyTemplate, /^Delete template/, env("OTHER_TEMPLATE_ID"));
  result.delete_missing = await forged(tab, templates, anyTemplate, /^Delete template/, env("MISSING_ID"));
} catch (error) {
  if (tab) await tab.screenshot({ path: join(SHOTS, "not-found-or-not-pending-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
