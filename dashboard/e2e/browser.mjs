// What the dashboard's browser scripts share: their environment, headless Chromium, signing in.
// Each script is run by a pytest test under tests/dashboard, which sets BASE_URL, CHROMIUM_PATH,
// SCREENSHOT_DIR and RESULT_FILE.
import { mkdirSync } from "node:fs";
import { launch } from "./chromium.mjs";

/** An environment variable, or `fallback`; a missing one without fallback stops the script. */
export function env(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

export const BASE_URL = env("BASE_URL").replace(/\/$/, "");
export const SHOTS = env("SCREENSHOT_DIR", "test-artifacts/screenshots");
mkdirSync(SHOTS, { recursive: true });

export const log = (step) => console.log(`e2e: ${step}`);

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** Headless Chromium: the pytest worker's shared one, or one of this script's (chromium.mjs). */
export { launch };

/** A fresh browser context signed in as `email`, on the patients page. */
export async function signIn(browser, email, password, viewport = { width: 1280, height: 1400 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(`${BASE_URL}/login`);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${BASE_URL}/patients`);
  return page;
}
