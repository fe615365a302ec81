// A form whose patient was erased while it was open: the database refuses the row (migration
// 20260101018950, check violation <table>_patient_erased; tests/integration/
// test_erased_patient_rows.py holds the names) and the form says so (src/lib/errors.ts
// erasedRefusal), not an error page.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { erasedRefusal, errorMessage } = require("../.unit-build/errors.js");

describe("erasedRefusal", () => {
  test("every table's refusal of an erased patient is one, as postgres.js reports it", () => {
    for (const table of ["scheduled_messages", "appointments", "waitlist_entries", "patient_invites", "patient_preferences"]) {
      assert.equal(erasedRefusal({ code: "23514", constraint_name: `${table}_patient_erased` }), true, table);
    }
  });

  test("other refusals are not", () => {
    assert.equal(erasedRefusal({ code: "23514", constraint_name: "patients_external_id_visible" }), false);
    assert.equal(erasedRefusal({ code: "23503", constraint_name: "appointments_patient_erased" }), false);
    assert.equal(erasedRefusal({ code: "23514" }), false);
    assert.equal(erasedRefusal(new Error("appointments_patient_erased")), false);
    assert.equal(erasedRefusal(null), false);
  });

  test("the forms say what happened and what to do", () => {
    assert.match(errorMessage("patient_erased_meanwhile"), /^Nothing was saved: this patient was erased .*Reload the page/);
    assert.match(errorMessage("patient_erased_group"), /^Nothing was sent: a patient of this group was erased .*Count the group again/);
  });
});
