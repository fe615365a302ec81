#!/usr/bin/env node
// An urgent group message says how many of its recipients get it at night. Quiet hours do not
// hold an urgent message (scheduler/quiet_hours.py), and the count the clinician confirmed said
// nothing of the patients inside theirs at its time. Now the count names them (ticking and
// unticking Urgent changes the sentence), a count made before their number changed is refused,
// and the notice after sending says it again. A message to one patient inside their quiet hours
// says after the send that it waits for their end (or, Urgent, goes at night). Run by
// tests/dashboard/test_compose_group_urgent_night_e2e.py.
//
// Environment: BASE_URL, CLINICIAN_EMAIL/_PASSWORD, LOCAL_TIME (the send time, clinic's zone),
// SCREENSHOT_DIR, RESULT_FILE, CHROMIUM_PATH.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_URL, SHOTS, env, forge, launch, log, signIn } from "./browser.mjs";

const text = async (locator) => ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
const browser = await launch();
const result = {};
let page;

try {
  page = await signIn(browser, env("CLINICIAN_EMAIL"), env("CLINICIAN_PASSWORD"));
  await page.goto(`${BASE_URL}/messages/new?audience=group`);
  await page.getByLabel("At a time").check();
  await page.getByLabel(/^Date and time in/).fill(env("LOCAL_TIME"));
  await page.getByLabel("Urgent").check();
  await page.getByLabel("Message", { exact: true }).fill("The clinic's phone line is down tomorrow night.");
  log("count: the urgent message's night recipients are named");
  await page.getByRole("button", { name: "Count recipients" }).click();
  const count = page.getByTestId("group-count");
  await count.filter({ hasText: "will receive it" }).waitFor();
  result.urgent_count = await text(count);
  await page.screenshot({ path: join(SHOTS, "compose-group-urgent-night.png"), fullPage: true });
  await page.getByLabel("Urgent").uncheck();
  result.plain_count = await text(count);
  await page.getByLabel("Urgent").check();

  log("a count whose night number is no longer true: refused");
  const night = await page.locator('input[name="group_confirmed_night"]').inputValue();
  await forge(page.locator('input[name="group_confirmed_night"]'), "0");
  await page.getByRole("button", { name: /^Schedule to the group/ }).click();
  await page.getByTestId("compose-error").waitFor();
  result.changed = await text(page.getByTestId("compose-error"));

  log("counted as it is: sent, and the notice says it again");
  await page.getByRole("button", { name: "Count recipients" }).click();
  await count.filter({ hasText: "will receive it" }).waitFor();
  result.night_field = night;
  await page.getByRole("button", { name: /^Schedule to the group/ }).click();
  await page.waitForURL(/\/messages\?status=pending&scheduled=/);
  result.notice = await text(page.getByTestId("group-scheduled"));
  await page.screenshot({ path: join(SHOTS, "compose-group-urgent-sent.png"), fullPage: true });

  log("one patient: their quiet hours at its time are said after the send");
  result.one = {};
  for (const [name, urgent] of [["Owl Night", false], ["Owl Night", true], ["Lark Day", false]]) {
    await page.goto(`${BASE_URL}/messages/new`);
    await page.getByLabel("Patient", { exact: true }).selectOption({ label: name });
    await page.getByLabel("At a time").check();
    await page.getByLabel(/^Date and time in/).fill(env("LOCAL_TIME"));
    if (urgent) await page.getByLabel("Urgent").check();
    await page.getByLabel("Message", { exact: true }).fill("Your results are in.");
    await page.getByRole("button", { name: "Schedule" }).click();
    await page.waitForURL(/\/patients\//);
    const notice = page.getByTestId("patient-notice");
    result.one[`${name}${urgent ? " urgent" : ""}`] = (await notice.count()) > 0 ? await text(notice) : null;
  }
  await page.screenshot({ path: join(SHOTS, "compose-one-quiet-held.png"), fullPage: true });
} catch (error) {
  if (page) await page.screenshot({ path: join(SHOTS, "compose-group-urgent-failure.png"), fullPage: true });
  throw error;
} finally {
  writeFileSync(env("RESULT_FILE"), JSON.stringify(result, null, 2));
  await browser.close();
}
log("done");
