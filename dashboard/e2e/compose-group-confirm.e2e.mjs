#!/usr/bin/env node
// A group message goes only as counted. Found by hand: Compose, "A group of patients", the
// search left empty (every patient of the clinic), a text, Send now to the group: one click sent
// it to all of them, never counted. Now:
// - uncounted: refused in the form, naming Recipients and Count recipients, the text kept;
// - counted, and then the group changed (a forged count here, as if a patient joined since):
//   refused, saying to count again;
// - counted: the button names how many ("Send now to the group (N patients)") and sends;
// - keyboard only: Tab to the search, the count, the text and the button.
// Run by tests/dashboard/test_compose_group_confirm_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));

  log("A group, empty search, Send now without counting: refused");
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("A group of patients").check();
  await page.getByLabel("Message", { exact: true }).fill("The clinic is closed on Friday.");
  const uncountedLabel = await text(page.getByRole("button", { name: /^Send now to the group/ }));
  await page.getByRole("button", { name: /^Send now to the group/ }).click();
  await page.getByTestId("compose-error").waitFor();
  const search = page.getByLabel("Name, external id or address contains");
  result.uncounted = {
    label: uncountedLabel,
    error: await text(page.getByTestId("compose-error")),
    text_kept: await page.getByLabel("Message", { exact: true }).inputValue(),
    search_invalid: await search.getAttribute("aria-invalid"),
    described_by: await search.getAttribute("aria-describedby"),
  };
  await page.screenshot({ path: join(SHOTS, "compose-group-uncounted.png"), fullPage: true });

  log("Counted, then the group changed: refused, count again");
  await page.getByRole("button", { name: "Count recipients" }).click();
  await page.getByTestId("group-count").filter({ hasText: "will receive it" }).waitFor();
  result.count = await text(page.getByTestId("group-count"));
  result.counted_label = await text(page.getByRole("button", { name: /^Send now to the group/ }));
  // As if a patient joined after the count: the form still carries the number seen before.
  await forge(
    page.locator('input[name="group_confirmed"]'),
    String(Number(result.counted_label.match(/\((\d+) patients?\)/)?.[1] ?? 0) - 1),
  );
  await page.getByRole("button", { name: /^Send now to the group/ }).click();
  await page.getByTestId("compose-error").filter({ hasText: "changed" }).waitFor();
  result.changed = { error: await text(page.getByTestId("compose-error")) };

  log("Keyboard only: count again and send");
  await page.goto(`${BASE_URL}/messages/new?audience=group`);
  await page.getByLabel("Name, external id or address contains").focus();
  await page.keyboard.type("Group");
  await page.keyboard.press("Tab"); // Count recipients
  await page.keyboard.press("Enter");
  await page.getByTestId("group-count").filter({ hasText: "will receive it" }).waitFor();
  result.keyboard_count = await text(page.getByTestId("group-count"));
  await page.getByLabel("Message", { exact: true }).focus();
  await page.keyboard.type("The clinic is closed on Friday, {{ patient_name }}.");
  const send = page.getByRole("button", { name: /^Send now to the group/ });
  result.keyboard_label = await text(send);
  await send.focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/messages\?status=pending&scheduled=/);
  result.sent = { url: page.url(), notice: await text(page.getByTestId("group-scheduled")) };
  await page.screenshot({ path: join(SHOTS, "compose-group-sent.png"), fullPage: true });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "compose-group-confirm-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
