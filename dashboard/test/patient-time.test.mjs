// The patient's own time of an appointment beside the clinic's (src/lib/time.ts patientTimeNote).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { patientTimeNote } = require("../.unit-build/time.js");

test("a patient in New York of a clinic in Madrid: their own time", () => {
  // 09:00 CEST on 29 March 2027 is 03:00 EDT.
  const at = new Date("2027-03-29T07:00:00Z");
  assert.equal(patientTimeNote(at, "Europe/Madrid", "America/New_York"), "patient's time: 03:00 (America/New_York)");
});

test("the weeks of March the US and the EU are 5 hours apart, and another day there", () => {
  // 09:00 CET on 17 March 2027 is 04:00 EDT; 00:30 CET on the 18th is 19:30 on the 17th.
  assert.equal(
    patientTimeNote("2027-03-17T08:00:00Z", "Europe/Madrid", "America/New_York"),
    "patient's time: 04:00 (America/New_York)",
  );
  assert.equal(
    patientTimeNote("2027-03-17T23:30:00Z", "Europe/Madrid", "America/New_York"),
    "patient's time: 17 Mar, 19:30 (America/New_York)",
  );
});

test("the same zone, the same offset then, no zone or an unknown one: nothing", () => {
  const at = new Date("2027-03-29T07:00:00Z");
  assert.equal(patientTimeNote(at, "Europe/Madrid", "Europe/Madrid"), null);
  assert.equal(patientTimeNote(at, "Europe/Madrid", "Europe/Paris"), null);
  assert.equal(patientTimeNote(at, "Europe/Madrid", null), null);
  assert.equal(patientTimeNote(at, "Europe/Madrid", "Mars/Olympus"), null);
});

test("lists of a patient's page name their zone when the patient's is not the clinic's", () => {
  // Max in Magadan, a clinic in New York: one reminder read "6 Dec 2026, 00:10" in the dose
  // history and "5 Dec 2026, 08:10" in the messages, neither saying which clock.
  const { zoneCaption } = require("../.unit-build/time.js");
  assert.equal(zoneCaption("patient", "Asia/Magadan", "America/New_York"), "Times in the patient's zone, Asia/Magadan");
  assert.equal(zoneCaption("clinic", "Asia/Magadan", "America/New_York"), "Times in your clinic's zone, America/New_York");
  assert.equal(zoneCaption("patient", "Europe/Madrid", "Europe/Madrid"), null);
  assert.equal(zoneCaption("clinic", "Europe/Madrid", "Europe/Madrid"), null);
});

// Compose's and Edit's note: the instant a time typed in the clinic's zone names, read as the
// server reads it (public.wall_time_instant), then the patient's own clock at it.
const { wallTimeInstant } = require("../.unit-build/time.js");

test("a clinic time read as the server reads it, across the clock changes", () => {
  const cases = [
    // [typed, clinic zone, instant]
    ["2026-12-07T20:00", "America/New_York", "2026-12-08T01:00:00.000Z"],
    ["2027-03-14T03:30", "America/New_York", "2027-03-14T07:30:00.000Z"], // just after the spring change
    ["2027-03-14T01:59", "America/New_York", "2027-03-14T06:59:00.000Z"], // just before it
    ["2026-11-01T01:30", "America/New_York", "2026-11-01T05:30:00.000Z"], // shown twice: the first (EDT)
    ["2026-10-25T02:30", "Europe/Madrid", "2026-10-25T00:30:00.000Z"], // shown twice: the first (CEST)
    ["2027-03-28T10:00", "Asia/Kolkata", "2027-03-28T04:30:00.000Z"], // half an hour off, no DST
    ["2026-12-07T09:00", "UTC", "2026-12-07T09:00:00.000Z"],
  ];
  for (const [typed, zone, instant] of cases) {
    assert.equal(wallTimeInstant(typed, zone)?.toISOString(), instant, `${typed} ${zone}`);
  }
});

test("a time the clocks skip, or not a time: no instant", () => {
  assert.equal(wallTimeInstant("2027-03-14T02:30", "America/New_York"), null);
  assert.equal(wallTimeInstant("2027-03-28T02:15", "Europe/Madrid"), null);
  assert.equal(wallTimeInstant("2026-02-30T10:00", "UTC"), null);
  assert.equal(wallTimeInstant("", "UTC"), null);
});

test("a clinic in New York writing to Madrid in the weeks the US has changed and Spain not", () => {
  // 20:00 EDT on 20 March 2027 is 01:00 CET on the 21st: 5 hours, not the winter's 6.
  const at = wallTimeInstant("2027-03-20T20:00", "America/New_York");
  assert.equal(patientTimeNote(at, "America/New_York", "Europe/Madrid"), "patient's time: 21 Mar, 01:00 (Europe/Madrid)");
  // On 7 December, 6 hours: 20:00 is 02:00 on the 8th.
  const winter = wallTimeInstant("2026-12-07T20:00", "America/New_York");
  assert.equal(patientTimeNote(winter, "America/New_York", "Europe/Madrid"), "patient's time: 8 Dec, 02:00 (Europe/Madrid)");
});
