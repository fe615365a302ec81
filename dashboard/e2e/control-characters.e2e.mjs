#!/usr/bin/env node
// A control character in a form's text (a NUL pasted from another program, or a forged form):
// each form refuses it naming the field, keeps the page, and saves nothing. Found by hand
// (session 30): a NUL in New patient's name or external id, the clinic's name, a template's name,
// an appointment's location or a composed message failed the page with "Something went wrong"
// (PostgreSQL's text holds no NUL: a 500), and on the sign-in page before anyone signed in.
// Then a template named on two lines before the one-line rule (seeded by the test) is renamed to
// one line with Rename, after a forged new name on two lines is refused.
// Run by tests/dashboard/test_control_characters_e2e.py.
//
// Environment: BASE_URL, ADMIN_EMAIL/_PASSWORD, PATIENT_ID, SCREENSHOT_DIR, RESULT_FILE,
// CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, hydrated, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

/** Fill `fields` (a control character survives no typing: set as a paste or a forge would) and
 * press the submit button named `button`; the answer's status, the alert, the page's heading. */
async function submit(url, fields, button) {
  await page.goto(`${BASE_URL}${url}`);
  for (const [name, value] of Object.entries(fields)) await forge(page.locator(`[name="${name}"]`).first(), value);
  // The browser's own checks (an e-mail field's format) would stop a forged value before the server.
  await hydrated(page.locator("form"));
  await page.locator("form").evaluateAll((forms) => {
    for (const form of forms) form.noValidate = true;
  });
  const answered = page.waitForResponse((r) => r.request().method() === "POST");
  await page.locator('button[type="submit"]').filter({ hasText: button }).first().click({ force: true });
  const status = (await answered).status();
  const alert = page.getByRole("alert").filter({ hasText: /\S/ }).first();
  await alert.waitFor();
  return { status, alert: await text(alert), heading: await text(page.locator("h1").first()) };
}

try {
  log("sign-in with a NUL in the e-mail");
  page = await (await browser.newContext()).newPage();
  result.sign_in = await submit("/login", { email: "dr\u0000@example.org", password: "some password" }, /Sign in/);
  await page.context().close();

  page = await signIn(browser, env("ADMIN_EMAIL"), env("ADMIN_PASSWORD"));
  log("New patient: a NUL in the external id");
  result.patient = await submit(
    "/patients/new",
    { display_name: "Nul Tester", external_id: "MRN\u00001" },
    /Create|Add|Save/,
  );
  result.patient_kept = await page.locator('[name="display_name"]').inputValue();
  await page.screenshot({ path: join(SHOTS, "control-character-refused.png") });
  log("Settings: a NUL in the clinic's name");
  result.settings = await submit("/settings", { name: "Harbour\u0000Clinic" }, /Save/);
  log("Appointments: a BEL in the location");
  result.appointment = await submit(
    `/appointments?patient=${env("PATIENT_ID")}`,
    { location: "Room\u00071", starts_at: "2031-05-05T10:00" },
    /Book|Create|Add/,
  );
  log("Compose: a NUL in the message");
  result.compose = await submit(`/messages/new?patient=${env("PATIENT_ID")}`, { message_content: "Hello\u0000there" }, /Send|Schedule/);
  log("Templates: a NUL in the name");
  await page.goto(`${BASE_URL}/templates`);
  await hydrated(page.locator('[name="body"]')); // typed before, the editor's preview missed it
  await page.locator('[name="body"]').fill("Hello {{ patient_name }}");
  await forge(page.locator('[name="name"]'), "results\u0000x");
  await page.getByRole("button", { name: "Save template" }).click();
  const problem = page.getByText(/^Name: it holds an invisible control character/);
  await problem.first().waitFor();
  result.template = { problem: await text(problem.first()), heading: await text(page.locator("h1").first()) };
  log("Templates: a name saved on two lines before the one-line rule is renamed to one line");
  await page.goto(`${BASE_URL}/templates`);
  await page.waitForLoadState("networkidle");
  const twoLines = () => page.getByTestId("template-row").filter({ hasText: "more than one line" });
  result.two_lines_rows = await twoLines().count();
  await twoLines().first().locator("summary").filter({ hasText: "Rename" }).click();
  // A forged new name holding NEL (U+0085, a line break; an input drops LF and CR itself):
  // refused naming the field, nothing renamed.
  await forge(twoLines().first().locator('[name="new_name"]'), "Evening\u0085plan");
  await twoLines().first().getByRole("button", { name: /^Rename template/ }).click();
  const renameRefused = page.getByRole("alert").filter({ hasText: /^New name:/ });
  await renameRefused.waitFor();
  result.rename_refused = await text(renameRefused);
  await twoLines().first().locator("summary").filter({ hasText: "Rename" }).click();
  await twoLines().first().locator('[name="new_name"]').fill("Evening plan");
  await twoLines().first().getByRole("button", { name: /^Rename template/ }).click();
  await page.getByRole("status").filter({ hasText: "Template renamed" }).waitFor();
  result.two_lines_after = await twoLines().count();
  await page.screenshot({ path: join(SHOTS, "template-renamed.png"), fullPage: true });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "control-characters-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
