// Unit tests of src/lib/patient-label.ts (how a patient is named in pickers and lists) and of the
// New patient form's address errors (src/lib/contact.ts addressError, src/lib/errors.ts).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { distinctLabels, patientLabel, UNNAMED_PATIENT } = require("../.unit-build/patient-label.js");
const { addressError } = require("../.unit-build/contact.js");
const { errorMessage } = require("../.unit-build/errors.js");

const ID = "3f2a9c1b-0000-4000-8000-000000000001";

describe("patientLabel", () => {
  test("a named patient is their name", () => {
    assert.equal(patientLabel({ id: ID, display_name: "Ana Ruiz", external_id: "MRN-1", contact_hint: "SMS …0199" }), "Ana Ruiz");
  });
  test("an unnamed patient is 'Unnamed patient', as on every other page, never their id alone", () => {
    const label = patientLabel({ id: ID, display_name: null });
    assert.ok(label.startsWith(UNNAMED_PATIENT), label);
    assert.notEqual(label, ID);
    assert.equal(label, "Unnamed patient (#3f2a9c1b)");
    assert.equal(patientLabel({ id: ID, display_name: "  " }), "Unnamed patient (#3f2a9c1b)");
  });
  test("several unnamed patients are told apart: external id, else a masked contact", () => {
    assert.equal(patientLabel({ id: ID, display_name: null, external_id: "MRN-7", contact_hint: "SMS …0199" }), "Unnamed patient (external id MRN-7)");
    assert.equal(patientLabel({ id: ID, display_name: null, external_id: null, contact_hint: "SMS …0199" }), "Unnamed patient (SMS …0199)");
  });
});

describe("distinctLabels: patients who share a name in one list are told apart", () => {
  const id = (n) => `${n}f2a9c1b-0000-4000-8000-00000000000${n}`;
  test("a name no other patient of the list has stays as it is", () => {
    const labels = distinctLabels([{ id: id(1), display_name: "Ana Ruiz", contact_hint: "SMS …0199" }]);
    assert.equal(labels.get(id(1)), "Ana Ruiz");
  });
  test("homonyms get their external id, else their masked contact (case and spaces aside)", () => {
    const labels = distinctLabels([
      { id: id(1), display_name: "Maria Garcia", external_id: "MRN-1", contact_hint: "SMS …0199" },
      { id: id(2), display_name: "maria  garcia", external_id: null, contact_hint: "E-mail m…@example.org" },
      { id: id(3), display_name: "Mario Garcia", external_id: null, contact_hint: "SMS …0111" },
    ]);
    assert.equal(labels.get(id(1)), "Maria Garcia (external id MRN-1)");
    assert.equal(labels.get(id(2)), "maria  garcia (E-mail m…@example.org)");
    assert.equal(labels.get(id(3)), "Mario Garcia");
  });
  test("homonyms with the same contact (one family number) get the record's id too", () => {
    const labels = distinctLabels([
      { id: id(1), display_name: "Tavita", contact_hint: "SMS …2346" },
      { id: id(2), display_name: "Tavita", contact_hint: "SMS …2346" },
    ]);
    assert.equal(labels.get(id(1)), "Tavita (SMS …2346) #1f2a9c1b");
    assert.notEqual(labels.get(id(1)), labels.get(id(2)));
  });
});

describe("the New patient form's address error names what the chosen channel needs", () => {
  test("SMS and WhatsApp: a phone number, and nothing about e-mail", () => {
    for (const channel of ["sms", "whatsapp"]) {
      const text = errorMessage(addressError(channel));
      assert.match(text, /phone number/, channel);
      assert.match(text, /\+E\.164/, channel);
      assert.doesNotMatch(text, /e-mail/i, channel);
    }
    assert.match(errorMessage(addressError("sms")), /^Address: SMS needs/);
    assert.match(errorMessage(addressError("whatsapp")), /^Address: WhatsApp needs/);
  });
  test("E-mail: an e-mail address, and nothing about phone numbers", () => {
    const text = errorMessage(addressError("email"));
    assert.match(text, /^Address: E-mail needs an e-mail address/);
    assert.doesNotMatch(text, /phone|E\.164/);
  });
});
