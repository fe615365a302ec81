// What a refused form gets back (src/lib/form-state.ts): the typed values, capped, and the props
// that mark the one field the error is about.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { fieldProblem, formValues, typedText } = require("../.unit-build/form-state.js");

describe("formValues", () => {
  test("the named fields as typed, missing ones empty, others left out", () => {
    const form = new FormData();
    form.set("display_name", "  Nora  ");
    form.set("consent", "on");
    form.set("password", "never echoed");
    assert.deepEqual(formValues(form, ["display_name", "consent", "address"]), {
      display_name: "  Nora  ",
      consent: "on",
      address: "",
    });
  });

  test("a forged huge value comes back capped, and a file as empty", () => {
    const form = new FormData();
    form.set("address", "9".repeat(1_000_000));
    form.set("timezone", new Blob(["x"]), "zone.txt");
    const values = formValues(form, ["address", "timezone"]);
    assert.equal(values.address.length, 4096);
    assert.equal(values.timezone, "");
  });
});

describe("fieldProblem", () => {
  const state = { error: "timezone", field: "timezone", values: {} };

  test("the named field is invalid and described by the error", () => {
    assert.deepEqual(fieldProblem(state, "timezone", "err"), { "aria-invalid": true, "aria-describedby": "err" });
  });

  test("other fields, and a state without an error, are not marked", () => {
    assert.deepEqual(fieldProblem(state, "name", "err"), {});
    assert.deepEqual(fieldProblem({}, "timezone", "err"), {});
  });
});

test("typedText: a textarea's CRLF line breaks as typed (LF), other values as they are", () => {
  assert.equal(typedText("Hello\r\nSee you\r\n"), "Hello\nSee you\n");
  assert.equal(typedText("a\rb\nc"), "a\nb\nc");
  assert.equal(typedText(null), "");
});
