#!/usr/bin/env node
// The Python API's /api/v1/docs page in headless Chromium: Swagger UI renders the OpenAPI
// document from this server's own files, with no request leaving for another host. Run by
// tests/web/test_api_docs.py. Environment: DOCS_URL, SCREENSHOT_DIR, CHROMIUM_PATH.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

const url = process.env.DOCS_URL;
const shots = process.env.SCREENSHOT_DIR ?? "test-artifacts/screenshots";
mkdirSync(shots, { recursive: true });
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const origin = new URL(url).origin;
  const foreign = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  await page.goto(url);
  await page.locator(".opblock-summary-path", { hasText: "/api/v1/statistics" }).first().waitFor({ timeout: 30000 });
  const operations = await page.locator(".opblock").count();
  await page.screenshot({ path: join(shots, "api-docs.png"), fullPage: false });
  if (foreign.length) throw new Error(`requests to other hosts: ${foreign.join(", ")}`);
  console.log(JSON.stringify({ operations }));
  await browser.close();
} catch (error) {
  console.error(error instanceof Error ? error.stack : error);
  await browser.close();
  process.exit(1);
}
