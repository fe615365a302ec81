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
