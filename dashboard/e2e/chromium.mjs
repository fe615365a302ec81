// Headless Chromium for the browser scripts. When the pytest worker that runs a script shares one
// browser among its tests (BROWSER_WS_ENDPOINT, tests/dashboard/browser_server.py), the script
// connects to it: starting Chromium cost each test more CPU than anything it did in the page.
// Each script still gets browser contexts of its own (cookies, storage, cache), closed when it
// disconnects, so nothing passes from one test to the next. Without the variable (a script run
// by hand) the script launches Debian's chromium for itself.
import { chromium } from "playwright-core";

/** How Chromium is started, by a script alone or by the shared browser server (the union of
 * the flags the scripts used). */
export function launchOptions() {
  return {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  };
}

/** The worker's shared Chromium when there is one, else a new one; `browser.close()` ends either
 * (for the shared one: this script's contexts and connection, not the browser). */
export function launch() {
  const endpoint = process.env.BROWSER_WS_ENDPOINT;
  return endpoint ? chromium.connect(endpoint) : chromium.launch(launchOptions());
}
