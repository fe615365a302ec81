// The new-appointment form's checks (src/lib/appointment-form.ts): a forged submission is refused
// naming the field at fault with a message that says how to fix it, never a generic error.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { checkNewAppointment, APPOINTMENT_FIELDS } = require("../.unit-build/appointment-form.js");
const { errorMessage } = require("../.unit-build/errors.js");

const PATIENT = "3f2b8c1e-5d4a-4e6f-9a0b-1c2d3e4f5a6b";
const good = { patient_id: PATIENT, starts_at: "2026-12-24T09:30", duration_minutes: "30", location: " Room 3 ", clinician_name: "" };

describe("checkNewAppointment", () => {
  test("a good form gives the appointment, trimmed, empty texts as null", () => {
    assert.deepEqual(checkNewAppointment(good), {
      ok: true,
      value: { patientId: PATIENT, localTime: "2026-12-24T09:30", durationMinutes: 30, location: "Room 3", clinicianName: null },
    });
    assert.equal(checkNewAppointment({ ...good, duration_minutes: "1440" }).ok, true);
  });

  const refusals = [
    ["no patient", { patient_id: "" }, "patient_required", "patient_id", /^Patient: choose a patient/],
    ["a forged patient id", { patient_id: "1 or 1=1" }, "patient_required", "patient_id", /^Patient:/],
    ["no time", { starts_at: "" }, "appointment_time", "starts_at", /^Starts at: .*for example/],
    ["a time that is not one", { starts_at: "tomorrow 9am" }, "appointment_time", "starts_at", /^Starts at:/],
    ["the 30th of February", { starts_at: "2026-02-30T10:00" }, "appointment_time", "starts_at", /real calendar day/],
    ["25 o'clock", { starts_at: "2026-11-22T25:00" }, "appointment_time", "starts_at", /^Starts at:/],
    ["minutes not a number", { duration_minutes: "half an hour" }, "appointment_duration", "duration_minutes", /^Minutes: .*1 to 1,440/],
    ["0 minutes", { duration_minutes: "0" }, "appointment_duration", "duration_minutes", /^Minutes:/],
    ["more than a day", { duration_minutes: "1441" }, "appointment_duration", "duration_minutes", /^Minutes:/],
    ["a fraction", { duration_minutes: "30.5" }, "appointment_duration", "duration_minutes", /^Minutes:/],
    ["a long location", { location: "x".repeat(81) }, "too_long_location", "location", /^Location: at most 80/],
    ["a long clinician name", { clinician_name: "x".repeat(51) }, "too_long_clinician_name", "clinician_name", /^Clinician: at most 50/],
  ];
  for (const [what, change, error, field, message] of refusals) {
    test(`${what}: refused naming ${field}`, () => {
      assert.deepEqual(checkNewAppointment({ ...good, ...change }), { ok: false, error, field });
      assert.match(errorMessage(error), message);
      assert.ok(APPOINTMENT_FIELDS.includes(field));
    });
  }

  test("a start the clocks skip in the clinic's zone is refused, not moved an hour later", () => {
    const dst = { ...good, starts_at: "2027-03-14T02:30" };
    assert.deepEqual(checkNewAppointment(dst, "America/Los_Angeles"), { ok: false, error: "appointment_time_skipped", field: "starts_at" });
    assert.match(errorMessage("appointment_time_skipped"), /^Starts at: that time does not exist .*Choose a time after the change/);
    assert.equal(checkNewAppointment(dst, "Europe/Madrid").ok, true);
    assert.equal(checkNewAppointment({ ...good, starts_at: "2027-03-14T03:30" }, "America/Los_Angeles").ok, true);
  });

  test("every code the form or its action makes has its own message", () => {
    for (const code of ["patient_not_found", "reschedule_time", "outcome", "send_time", "send_time_skipped", "reschedule_time_skipped"]) {
      assert.doesNotMatch(errorMessage(code), /Something went wrong/, code);
    }
  });
});
