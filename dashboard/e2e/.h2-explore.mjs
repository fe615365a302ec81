import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
const ids = JSON.parse(readFileSync("/tmp/s24-h2/ids.json", "utf8"));
const B = "http://127.0.0.1:8144";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
page.setDefaultTimeout(20000);
await page.goto(`${B}/login`);
await page.getByLabel("E-mail").fill("dr@h2.test");
await page.getByLabel("Password").fill("clinic pass 1234");
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL(`${B}/patients`);
const pages = process.argv.slice(2);
for (const p of pages) {
  const url = p.replace(/\{(\w[\w ]*)\}/g, (_, k) => ids[k]);
  const r = await page.goto(`${B}${url}`);
  const name = p.replace(/[^a-z0-9]+/gi, "_").slice(0, 60);
  await page.screenshot({ path: `/tmp/s24-h2/shots/${name}.png`, fullPage: true });
  console.log(url, r?.status(), (await page.locator("h1").first().textContent().catch(() => "")) ?? "");
}
await browser.close();
