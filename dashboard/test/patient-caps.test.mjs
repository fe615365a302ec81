// The settings page's "Messages per patient" section (src/lib/patient-caps.ts): what a submitted
// form stores, the field named when it is refused, and what the page says is in effect.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { otherCaps, ownCap, parsePatientCapsForm, patientCapsProblem, patientCapsSummary } = require(
  "../.unit-build/patient-caps.js",
);

function form(entries) {
  const data = new FormData();
  for (const [name, value] of Object.entries(entries)) data.append(name, value);
  return data;
}

describe("parsePatientCapsForm", () => {
  test("a number sets the clinic's own cap; blank follows the service's (null removes it)", () => {
    assert.deepEqual(parsePatientCapsForm(form({ clinic_messages_per_patient_hour: " 3 ", clinic_messages_per_patient_day: "" })), {
      ok: true,
      value: { clinic_messages_per_patient_hour: 3, clinic_messages_per_patient_day: null },
    });
  });
  test("0 (off), past the maximum, a fraction or words are refused naming the field", () => {
    for (const [hour, day, field] of [
      ["0", "", "clinic_messages_per_patient_hour"],
      ["21", "", "clinic_messages_per_patient_hour"],
      ["2", "51", "clinic_messages_per_patient_day"],
      ["2", "2.5", "clinic_messages_per_patient_day"],
      ["many", "5", "clinic_messages_per_patient_hour"],
    ]) {
      const parsed = parsePatientCapsForm(form({ clinic_messages_per_patient_hour: hour, clinic_messages_per_patient_day: day }));
      assert.deepEqual(parsed, { ok: false, field }, `${hour}/${day}`);
      assert.match(patientCapsProblem(field), /a whole number from 1 to (20|50), or blank for the service's default/);
    }
    assert.equal(patientCapsProblem("something_else"), null);
    assert.match(patientCapsProblem("admin_only"), /Only an admin/);
  });
});

describe("what the section shows", () => {
  test("the caps in effect, each said to be the clinic's own or the service's", () => {
    const caps = { appointment_per_day: 1, clinic_messages_per_patient_day: 4 };
    assert.equal(ownCap(caps, "day"), "4");
    assert.equal(ownCap(caps, "hour"), "");
    assert.equal(
      patientCapsSummary(caps, { hour: 5, day: 4 }),
      "Messages from your clinic to one patient: at most 5 in an hour (the service's default) and at most 4 in 24 hours (your clinic's own), counted when they are written, whenever they are due (a message changed later keeps its place). Compose and the API refuse more; a group message leaves such a patient out and names them.",
    );
    assert.match(patientCapsSummary({}, { hour: 0, day: 10 }), /one patient: no cap in an hour \(the service's default\) and at most 10 in 24 hours/);
    assert.deepEqual(otherCaps(caps), [["appointment_per_day", 1]]);
  });
});
