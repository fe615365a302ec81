#!/usr/bin/env node
// What a clinician meets before and around the pages: the sign-in form after a wrong password
// (the e-mail kept as typed, the password emptied and focused, an alert naming the problem that
// both fields are described by), an unknown address (a not-found page in the dashboard's look,
// status 404, with a link back that works signed out and signed in, and for another clinic's
// patient id), and the favicon (no request of the page's answered 404). Run by
// tests/dashboard/test_sign_in_and_not_found_e2e.py.
//
// A link to a page while signed out leads to it after sign-in (`?next=`, never another site).
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, HELD_EMAIL, OWN_PATIENT_ID, OTHER_PATIENT_ID,
// SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, launch, log } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = { failed_requests: [] };
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(30000);
// Every answer of 400 or more the pages' own requests got (favicon included), except the
// not-found pages this script opens on purpose.
const unknown = new Set();
page.on("response", (response) => {
  const url = new URL(response.url());
  if (response.status() >= 400 && !unknown.has(url.pathname)) {
    result.failed_requests.push(`${response.status()} ${url.pathname}`);
  }
});

async function notFoundPage(path) {
  unknown.add(path);
  const response = await page.goto(`${BASE_URL}${path}`);
  const panel = page.getByTestId("not-found");
  // The panel may arrive in a later chunk of the streamed page.
  await panel.waitFor({ timeout: 10000 }).catch(() => undefined);
  return {
    status: response?.status() ?? null,
    panels: await panel.count(),
    heading: (await panel.count()) ? await text(panel.getByRole("heading", { level: 1 })) : null,
    link: (await panel.count()) ? await panel.getByRole("link").getAttribute("href") : null,
    title: await page.title(),
  };
}

try {
  log("the sign-in page and its icon");
  await page.goto(`${BASE_URL}/login`);
  await page.waitForLoadState("networkidle");
  const icon = await page.request.get(`${BASE_URL}/favicon.ico`);
  const body = await icon.body();
  result.favicon = {
    status: icon.status(),
    type: icon.headers()["content-type"] ?? null,
    ico_header: [...body.subarray(0, 4)],
    bytes: body.length,
  };
  result.icon_links = await page.locator("link[rel=icon]").evaluateAll((links) => links.map((l) => l.getAttribute("href")));
  for (const href of result.icon_links) {
    const answer = await page.request.get(new URL(href, BASE_URL).toString());
    result.failed_requests.push(...(answer.ok() ? [] : [`${answer.status()} ${href}`]));
  }

  log("a wrong password keeps the e-mail and says what is wrong");
  const typedEmail = env("CLINICIAN_EMAIL").toUpperCase();
  await page.getByLabel("E-mail").fill(typedEmail);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  // Next's route announcer is a role=alert too: the form's own alert by its test id.
  const alert = page.getByTestId("login-error");
  await alert.waitFor();
  result.login_error = await text(alert);
  result.login_url = page.url();
  result.email_after = await page.getByLabel("E-mail").inputValue();
  result.password_after = await page.getByLabel("Password").inputValue();
  result.email_invalid = await page.getByLabel("E-mail").getAttribute("aria-invalid");
  result.password_described_by = await page.getByLabel("Password").getAttribute("aria-describedby");
  result.alert_id = await alert.getAttribute("id");
  result.alert_role = await alert.getAttribute("role");
  result.focused = await page.evaluate(() => document.activeElement?.id ?? null);
  await page.screenshot({ path: join(SHOTS, "login-wrong-password.png"), fullPage: true });

  log("a second wrong password: still kept");
  await page.getByLabel("Password").fill("still not it");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(() => document.querySelector("#password")?.value === "" && document.activeElement?.id === "password");
  result.email_after_second = await page.getByLabel("E-mail").inputValue();

  log("an unknown address while signed out");
  result.signed_out = await notFoundPage("/no-such-page");
  await page.screenshot({ path: join(SHOTS, "not-found-desktop.png"), fullPage: true });
  await page.getByTestId("not-found").getByRole("link").click();
  await page.waitForURL(/\/login$/);
  result.signed_out_back_to = new URL(page.url()).pathname;

  log("a link to a patient while signed out: sign-in, then that patient's page");
  const patientPath = `/patients/${env("OWN_PATIENT_ID")}`;
  await page.goto(`${BASE_URL}${patientPath}`);
  await page.waitForURL(/\/login\?next=/);
  result.sign_in_next = new URL(page.url()).searchParams.get("next");
  await page.getByLabel("E-mail").fill(typedEmail);
  await page.getByLabel("Password").fill("wrong again");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("login-error").waitFor();

  log("then only the password typed: signed in, on the page asked for");
  result.email_before_retry = await page.getByLabel("E-mail").inputValue();
  await page.getByLabel("Password").fill(env("CLINICIAN_PASSWORD"));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE_URL}${patientPath}`);
  result.signed_in_at = new URL(page.url()).pathname;

  log("unknown addresses while signed in: a deep one, a malformed id, another clinic's patient");
  result.signed_in_unknown = await notFoundPage("/no-such-page/deeper");
  result.malformed_patient = await notFoundPage("/patients/not-a-uuid");
  result.other_clinic_patient = await notFoundPage(`/patients/${env("OTHER_PATIENT_ID")}`);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, "not-found-phone.png"), fullPage: true });
  result.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  await page.getByTestId("not-found").getByRole("link").click();
  await page.waitForURL(`${BASE_URL}/patients`);
  result.signed_in_back_to = new URL(page.url()).pathname;

  log("a search with a NUL in it (a hand-made address): the list, not an error page");
  const nulSearch = await page.goto(`${BASE_URL}/patients?q=${encodeURIComponent("Ona\u0000")}`);
  result.nul_search = {
    status: nulSearch?.status() ?? null,
    caption: await text(page.locator("caption")),
    rows: await page.locator("tbody tr").allTextContents(),
  };

  log("the sign-in page redirects a signed-in clinician to the dashboard");
  await page.goto(`${BASE_URL}/login`);
  await page.waitForURL(`${BASE_URL}/patients`);
  result.login_when_signed_in = new URL(page.url()).pathname;
  log("a next that leads to another site is not followed");
  await page.goto(`${BASE_URL}/login?next=${encodeURIComponent("//evil.example/patients")}`);
  await page.waitForURL(`${BASE_URL}/patients`);
  result.forged_next_lands_on = page.url();

  log("a page whose table is locked (a migration, a stuck transaction): the error page, in time");
  // The test holds waitlist_entries and sets DASHBOARD_STATEMENT_TIMEOUT_SECONDS: the page waited
  // for as long as the lock was held, keeping one of the pool's connections.
  const started = Date.now();
  await page.goto(`${BASE_URL}/waitlist`, { timeout: 60_000 });
  const failed = page.getByRole("alert").filter({ hasText: "Something went wrong" });
  await failed.waitFor({ timeout: 60_000 });
  result.locked_table = { seconds: (Date.now() - started) / 1000, retry: await failed.getByRole("button", { name: "Try again" }).count() };
  await page.goto(`${BASE_URL}/patients`);
  result.after_locked_table = await page.getByRole("heading", { level: 1 }).textContent();

  log("guessing another address's password from the same client: refused as too many attempts");
  // Counted in PostgreSQL for the client (three refused above) and the address, so every
  // dashboard process refuses the same attempt (src/lib/throttle.ts).
  const guesser = await browser.newPage();
  await guesser.goto(`${BASE_URL}/login`);

  log("a sign-in whose throttle row a stuck transaction holds: said in time, the e-mail kept");
  // The test holds the row of HELD_EMAIL's failures: the sign-in's lookup waited for the lock.
  const heldStarted = Date.now();
  await guesser.getByLabel("E-mail").fill(env("HELD_EMAIL"));
  await guesser.getByLabel("Password").fill("held attempt");
  await guesser.getByRole("button", { name: "Sign in" }).click();
  await guesser.getByTestId("login-error").waitFor({ timeout: 60_000 });
  result.held_sign_in = {
    seconds: (Date.now() - heldStarted) / 1000,
    said: await text(guesser.getByTestId("login-error")),
    email: await guesser.getByLabel("E-mail").inputValue(),
    email_invalid: await guesser.getByLabel("E-mail").getAttribute("aria-invalid"),
  };
  await guesser.screenshot({ path: join(SHOTS, "sign-in-busy.png") });

  await guesser.getByLabel("E-mail").fill("guess@clinic.test");
  result.guesses = [];
  for (let i = 1; i <= 12; i++) {
    await guesser.getByLabel("Password").fill(`guess number ${i}`);
    await guesser.getByRole("button", { name: "Sign in" }).click();
    await guesser.waitForFunction(() => document.querySelector("#password")?.value === "" && document.querySelector("[data-testid=login-error]"));
    const said = await text(guesser.getByTestId("login-error"));
    result.guesses.push(said);
    if (said.startsWith("Too many attempts")) break;
  }
  await guesser.close();
} catch (error) {
  await page.screenshot({ path: join(SHOTS, "sign-in-not-found-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
