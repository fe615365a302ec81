#!/usr/bin/env node
// Texts of more than one line, in the template editor and Compose. Found by hand in medremind
// dev: Check text (or Save) on a two-line template showed nothing at all, neither MedRemind's
// problems nor "The text passed the checks": the browser sends a textarea's line breaks as CRLF,
// the answer was for that text, and the editor shows only an answer for the text on screen (LF).
// A refused two-line text was not saved and said nothing. Now the refusal names its line, the
// check passes a good one, it saves with its line breaks as typed, and a composed two-line
// message is stored as previewed. Run by tests/dashboard/test_multiline_texts_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, PATIENT_NAME, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

async function template(body, button) {
  await page.goto(`${BASE_URL}/templates`);
  await page.getByLabel("Name", { exact: true }).fill("Friday");
  await page.getByLabel("Text", { exact: true }).fill(body);
  await page.getByRole("button", { name: button }).click();
}

try {
  page = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));
  log("a two-line template with an open override on line 2: refused, saying so");
  await template("Hello {{ patient_name }}\nYour dose at \u202e20:00", "Save template");
  await page.getByTestId("template-server-problems").waitFor();
  result.refused = await text(page.getByTestId("template-server-problems"));
  await page.screenshot({ path: join(SHOTS, "template-two-lines-refused.png"), fullPage: true });

  log("a good two-line template: the check passes, then it saves");
  await template("Hello {{ patient_name }}\nSee you on Friday", "Check text");
  await page.getByTestId("template-checked").waitFor();
  result.checked = await text(page.getByTestId("template-checked"));
  await page.getByRole("button", { name: "Save template" }).click();
  await page.waitForURL(/\/templates\?saved=1/);

  log("Compose: a two-line message to one patient");
  await page.goto(`${BASE_URL}/messages/new`);
  await page.getByLabel("Patient", { exact: true }).selectOption({ label: env("PATIENT_NAME") });
  await page.getByLabel("Message", { exact: true }).fill("Your results are ready.\nCall us on Monday.");
  result.compose_count = await text(page.locator("#message-count"));
  await page.getByRole("button", { name: "Send now" }).click();
  await page.waitForURL(/\/patients\//);
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "multiline-texts-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
