// Unit tests of src/lib/send-now.ts: Send now never sends a medication reminder before its dose's
// time (less the clinic's early window; none for a time-critical medicine), and asks first,
// naming how early, for every other message due later.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { earlyByText, quietHoursMayHold, sendNowVerdict } = require("../.unit-build/send-now.js");

const NOW = new Date("2026-12-05T03:10:00Z");
const at = (minutes) => new Date(NOW.getTime() + minutes * 60_000);
const message = (kind, scheduled, due = null, early = 0) => ({
  kind,
  scheduled_time: at(scheduled),
  dose_due_at: due === null ? null : at(due),
  dose_early_seconds: early,
});

describe("sendNowVerdict", () => {
  test("a medication reminder hours before its dose is not sent now", () => {
    const verdict = sendNowVerdict(message("medication_reminder", 337, 337), NOW);
    assert.equal(verdict.verdict, "dose_not_due");
    assert.deepEqual(verdict.due, at(337));
  });
  test("within the clinic's early window it may go, once confirmed", () => {
    assert.deepEqual(sendNowVerdict(message("medication_reminder", 4, 4, 300), NOW), { verdict: "confirm", earlyMs: 4 * 60_000 });
    assert.equal(sendNowVerdict(message("medication_reminder", 6, 6, 300), NOW).verdict, "dose_not_due");
  });
  test("a time-critical dose (window 0) one minute ahead is not sent now", () => {
    assert.equal(sendNowVerdict(message("medication_reminder", 1, 1, 0), NOW).verdict, "dose_not_due");
  });
  test("a snoozed reminder of a dose already due may go, once confirmed", () => {
    assert.deepEqual(sendNowVerdict(message("medication_reminder", 12, -3), NOW), { verdict: "confirm", earlyMs: 12 * 60_000 });
  });
  test("a reminder with no dose row is held to its own time", () => {
    assert.equal(sendNowVerdict(message("medication_reminder", 90), NOW).verdict, "dose_not_due");
  });
  test("other messages due later are asked about; one due already is not", () => {
    for (const kind of ["free_text", "appointment_reminder", "dose_followup", "refill_reminder"]) {
      assert.deepEqual(sendNowVerdict(message(kind, 200, kind === "dose_followup" ? -30 : null), NOW), { verdict: "confirm", earlyMs: 200 * 60_000 });
    }
    assert.deepEqual(sendNowVerdict(message("free_text", -1), NOW), { verdict: "due" });
  });
});

describe("earlyByText", () => {
  const cases = [
    [20_000, "less than a minute"],
    [40 * 60_000, "40 min"],
    [(5 * 60 + 37) * 60_000, "5 h 37 min"],
    [(3 * 60 - 1) * 60_000 + 40_000, "3 h"],
    [180 * 60_000, "3 h"],
    [(2 * 1440 + 3 * 60 + 9) * 60_000, "2 days 3 h"],
    [1440 * 60_000, "1 day"],
  ];
  for (const [ms, text] of cases) test(text, () => assert.equal(earlyByText(ms), text));
});

test("quiet hours may hold a message that is not urgent, never a dose's reminder or follow-up", () => {
  assert.equal(quietHoursMayHold({ kind: "free_text", urgent: false }), true);
  assert.equal(quietHoursMayHold({ kind: "free_text", urgent: true }), false);
  assert.equal(quietHoursMayHold({ kind: "appointment_reminder", urgent: false }), true);
  assert.equal(quietHoursMayHold({ kind: "medication_reminder", urgent: false }), false);
  assert.equal(quietHoursMayHold({ kind: "dose_followup", urgent: false }), false);
});
