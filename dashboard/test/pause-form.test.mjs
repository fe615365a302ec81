// The patient page's pause (src/lib/pause-form.ts): what a submitted form asks the service, the
// field named when it is refused, and how the page says the pause in both zones.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { parsePauseForm, pauseProblem, pauseState, todayIn } = require("../.unit-build/pause-form.js");

const form = (pause_for, pause_days = "", pause_until = "") => ({ pause_for, pause_days, pause_until });
const TODAY = "2026-12-07";

describe("parsePauseForm", () => {
  test("the patient's own choices: days, a day, until resumed", () => {
    assert.deepEqual(parsePauseForm(form("days", " 3 "), TODAY), { ok: true, body: { paused: true, pause_days: 3 } });
    assert.deepEqual(parsePauseForm(form("days", "366"), TODAY), { ok: true, body: { paused: true, pause_days: 366 } });
    assert.deepEqual(parsePauseForm(form("until", "", "2026-12-08"), TODAY), {
      ok: true,
      body: { paused: true, pause_until: "2026-12-08" },
    });
    assert.deepEqual(parsePauseForm(form("resumed", "9"), TODAY), { ok: true, body: { paused: true, pause_until: null } });
  });
  test("refused naming the field: days out of 1..366 or not whole, a day not after today or not real", () => {
    for (const days of ["0", "367", "2.5", "", "three", "-1"]) {
      assert.deepEqual(parsePauseForm(form("days", days), TODAY), { ok: false, field: "pause_days" }, days);
    }
    for (const day of [TODAY, "2026-12-06", "2026-02-30", "", "12/08/2026"]) {
      assert.deepEqual(parsePauseForm(form("until", "", day), TODAY), { ok: false, field: "pause_until" }, day);
    }
    assert.deepEqual(parsePauseForm(form("forever"), TODAY), { ok: false, field: "pause_for" });
  });
});

describe("pauseProblem and pauseState", () => {
  test("a refused day names the patient's today and zone; the service's words are kept", () => {
    assert.match(pauseProblem("pause_until", TODAY, "Asia/Tokyo"), /after today \(2026-12-07 in the patient's time zone, Asia\/Tokyo\)/);
    assert.match(pauseProblem("pause_days", TODAY, "UTC"), /from 1 to 366/);
    assert.equal(pauseProblem("pause_service", TODAY, "UTC", "the MedRemind service did not answer"), "Nothing was changed: the MedRemind service did not answer.");
    assert.equal(pauseProblem("patient_not_found", TODAY, "UTC"), null); // the page's shared message
  });
  test("the end in the patient's zone and, when its clock differs, the clinic's", () => {
    const end = new Date("2026-12-10T05:00:00Z");
    assert.equal(
      pauseState(true, end, "Asia/Tokyo", "Europe/Madrid"),
      "Reminders paused until 10 Dec 2026, 14:00 in the patient's time zone (Asia/Tokyo), 10 Dec 2026, 06:00 in your clinic's (Europe/Madrid). They come back by themselves then, and the patient is told.",
    );
    assert.doesNotMatch(pauseState(true, end, "Europe/Paris", "Europe/Madrid"), /your clinic's/);
    assert.match(pauseState(true, null, "UTC", "UTC"), /^Reminders paused until resumed/);
    assert.equal(pauseState(false, null, "UTC", "UTC"), null);
  });
  test("today is the patient's date", () => {
    const at = new Date("2026-12-07T23:30:00Z");
    assert.equal(todayIn(at, "Asia/Tokyo"), "2026-12-08");
    assert.equal(todayIn(at, "America/New_York"), "2026-12-07");
  });
});
