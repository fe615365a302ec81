// The New patient form's refusal of a name that shows nothing comes from the database's rule
// (src/lib/errors.ts nameRefusal; migration 20260101015500): its check violation, by name.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { errorMessage, nameRefusal } = require("../.unit-build/errors.js");

describe("nameRefusal", () => {
  test("the name check's violation is the form's name_invisible, which says how to fix it", () => {
    const code = nameRefusal({ code: "23514", constraint_name: "patients_display_name_visible" });
    assert.equal(code, "name_invisible");
    assert.match(errorMessage(code), /^Name: it shows nothing.*for example Ana\.$/);
  });

  test("other refusals are not taken for it", () => {
    assert.equal(nameRefusal({ code: "23514", constraint_name: "patients_display_name_template_max" }), null);
    assert.equal(nameRefusal({ code: "23505", constraint_name: "patients_display_name_visible" }), null);
    assert.equal(nameRefusal(new Error("boom")), null);
    assert.equal(nameRefusal(null), null);
  });
});
