import { launch, signIn, BASE_URL } from "./browser.mjs";
const browser = await launch();
const page = await signIn(browser, "drA@clinic.example", "pw-long-enough-123");
for (const p of ["/appointments", `/patients/${process.env.PID}`, "/messages", "/patients", "/statistics"]) {
  const r = await page.goto(BASE_URL + p);
  console.log(p, r.status(), (await page.locator("main").innerText()).slice(0, 100).replace(/\n/g, " | "));
}
await browser.close();
