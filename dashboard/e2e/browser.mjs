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

// -- Forged forms --------------------------------------------------------------------------------
// A script forges what a form sends (another clinic's id in a hidden field, a value no typing can
// give) by writing into the DOM. Two things of React's undo such a write without a word, and the
// press then sends the page's own value (CI, a loaded host: the real message was cancelled and the
// script waited for an alert that never came):
// - Hydration. react-dom's prepareToHydrateHostInstance (next/dist/compiled/react-dom/cjs/
//   react-dom-client.*.js) sets the element's `__reactFiber$<key>` and `__reactProps$<key>`, then,
//   in the same synchronous call, initInput(..., isHydrating) writes the rendered value to
//   `defaultValue`; a hidden input's value IS its default value (value mode "default"), so a forge
//   written before is reset, and initInput sets `type` again too. An element that carries the
//   fiber key has been through that step. networkidle says nothing of it (the scripts used it).
// - A re-render. A page that refreshes itself (AutoRefresh's router.refresh every 3 s: Messages,
//   a patient's page) commits the field's props again: updateInput writes `value` (and `type`).
//   So the forge is written once more in the capture phase of the form's `submit` event on
//   window, which runs before React's own listener (at the root) reads the form into FormData,
//   synchronously, with nothing in between.

/** Whether every element `locator` matches (one at least) has been hydrated by React. */
const HYDRATED = (elements) =>
  elements.length > 0 && elements.every((e) => Object.keys(e).some((k) => k.startsWith("__reactFiber$")));

/** Wait until React has hydrated every element `locator` matches (see above); why it did not, if
 * not within the page's timeout (`timeout`, 30 s by default). */
export async function hydrated(locator, timeout = 30000) {
  const page = locator.page();
  const deadline = Date.now() + timeout;
  while (!(await locator.evaluateAll(HYDRATED))) {
    if (Date.now() > deadline) {
      const count = await locator.count();
      throw new Error(
        `${count ? `${count} element(s)` : "nothing"} matching ${locator} not hydrated by React in ${timeout} ms` +
          " (a page error? see the screenshot)",
      );
    }
    await page.waitForTimeout(20);
  }
}

/**
 * Forge `value` into every field `fields` matches (hidden or not; a select is given an option of
 * that value, labelled `label`, when it has none, and chosen as a person chooses: with input and
 * change events, so a controlled select's state follows), as a script posting the form would:
 * once React has hydrated them, written now and again when their form is submitted (see above).
 * Checks that the fields hold it (an input's own sanitising, a type=email's, would change it).
 */
export async function forge(fields, value, label = "Forged") {
  await hydrated(fields);
  const held = await fields.evaluateAll(
    (elements, [forged, text]) => {
      const write = () => {
        for (const field of elements) {
          if (field instanceof HTMLSelectElement && ![...field.options].some((o) => o.value === forged)) {
            field.append(new Option(text, forged));
          }
          field.value = forged;
        }
      };
      const forms = new Set(elements.map((field) => field.form));
      const onSubmit = (event) => {
        if (!forms.has(event.target)) return;
        window.removeEventListener("submit", onSubmit, true);
        write();
      };
      window.addEventListener("submit", onSubmit, true);
      write();
      for (const field of elements) {
        if (!(field instanceof HTMLSelectElement)) continue;
        field.dispatchEvent(new Event("input", { bubbles: true }));
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return elements.map((field) => field.value);
    },
    [value, label],
  );
  if (held.some((v) => v !== value)) throw new Error(`the forged value did not stay in ${fields}: ${JSON.stringify(held)}`);
}

/** Append a hidden field `name` = `value` to `form` (one the page does not render), once React has
 * hydrated the form: a node added before would be a hydration mismatch, and React's client
 * render after it drops the page's DOM, the addition with it. */
export async function addField(form, name, value) {
  await hydrated(form);
  await form.evaluate(
    (f, [n, v]) => {
      const field = document.createElement("input");
      Object.assign(field, { type: "hidden", name: n, value: v, id: `forged-${n}` });
      f.append(field);
    },
    [name, value],
  );
}

/**
 * Keep `page` as it is shown now: the pages that refresh themselves (AutoRefresh) ask GET /session
 * first, every 3 s, and refresh only on its answer; held here until `release()` (as a slow network
 * would), the page re-renders nothing meanwhile. For a step that acts on what a tab shows while
 * another tab changed it: the refresh in between removed the stale row, and the press waited for a
 * button that was gone. Call before the page is loaded, so that no refresh has begun.
 */
export async function holdRefreshes(page) {
  const held = [];
  let holding = true;
  const handler = (route) => (holding ? held.push(route) : route.continue());
  await page.route(`${BASE_URL}/session`, handler);
  return async () => {
    holding = false;
    await page.unroute(`${BASE_URL}/session`, handler);
    await Promise.all(held.splice(0).map((route) => route.continue()));
  };
}
