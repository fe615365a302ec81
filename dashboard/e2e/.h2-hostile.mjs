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
const shot = (n) => page.screenshot({ path: `/tmp/s24-h2/shots/${n}.png`, fullPage: true });
const alertText = async () => (await page.locator('[role="alert"]').allTextContents()).join(" | ");

// 1. Waitlist: another clinic's patient forged into the select.
await page.goto(`${B}/waitlist`);
await page.locator("#wl-patient, select[name=patient_id]").first().evaluate((s, id) => { const o = document.createElement("option"); o.value = id; o.text = "x"; s.appendChild(o); s.value = id; }, ids.Stranger);
await page.getByRole("button", { name: "Add to waitlist" }).click();
await page.waitForTimeout(2500);
console.log("waitlist foreign:", await alertText());
// 2. Waitlist: huge note past maxLength.
await page.goto(`${B}/waitlist`);
await page.getByLabel("Patient", { exact: true }).selectOption({ label: "Anna Becker" });
await page.getByLabel("Note", { exact: true }).evaluate((i) => { i.removeAttribute("maxlength"); i.value = "x".repeat(5000); });
await page.getByRole("button", { name: "Add to waitlist" }).click();
await page.waitForTimeout(2500);
console.log("waitlist huge note:", await alertText());
// 3. Compose to the other clinic's patient (forged).
await page.goto(`${B}/messages/new`);
await page.locator("select[name=patient_id]").evaluate((s, id) => { const o = document.createElement("option"); o.value = id; o.text = "x"; s.appendChild(o); s.value = id; }, ids.Stranger);
await page.getByLabel("Message", { exact: true }).fill("Hello from elsewhere");
await page.getByRole("button", { name: /^Send now|^Schedule/ }).click();
await page.waitForTimeout(2500);
console.log("compose foreign:", await alertText(), page.url());
// 4. Compose huge text.
await page.goto(`${B}/messages/new?patient=${ids["Anna Becker"]}`);
await page.getByLabel("Message", { exact: true }).evaluate((t) => { t.removeAttribute("maxlength"); });
await page.getByLabel("Message", { exact: true }).fill("Y".repeat(200000));
await page.getByRole("button", { name: /^Send now|^Schedule/ }).click();
await page.waitForTimeout(4000);
console.log("compose huge:", (await alertText()).slice(0, 300), page.url());
// no shot: a 200k textarea
// 5. Compose urgent, one patient, now (00:xx Berlin).
await page.goto(`${B}/messages/new?patient=${ids["Anna Becker"]}`);
await page.getByLabel("Urgent").check();
await page.getByLabel("Message", { exact: true }).fill("Urgent: call the clinic about your results.");
await shot("compose-one-urgent");
await browser.close();
