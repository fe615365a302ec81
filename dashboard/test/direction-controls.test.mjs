// Direction controls left open on their line in the dashboard's kept-as-written texts (Compose's
// message, a waitlist note, an external id): the API's rule (core/direction_controls.py).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { unclosedDirectionControl } = require("../.unit-build/direction-controls.js");
const { errorMessage } = require("../.unit-build/errors.js");

test("an override left open names its line, the character and its closer", () => {
  assert.deepEqual(unclosedDirectionControl("Your results are ready.\nCall 030 1234\u202e 567"), {
    line: 2,
    char: "U+202E",
    closer: "U+202C",
  });
  assert.deepEqual(unclosedDirectionControl("MRN\u2067123"), { line: 1, char: "U+2067", closer: "U+2069" });
});

test("closed on its line, or none at all: kept", () => {
  for (const text of ["Results \u202eARABIC\u202c ready", "a \u2066b \u202ec\u2069 d", "plain", "\u200f mark only"]) {
    assert.equal(unclosedDirectionControl(text), null, text);
  }
  // Closed on another line is not closed: each line is reordered on its own.
  assert.equal(unclosedDirectionControl("a \u202eb\nc\u202c")?.line, 1);
});

test("each refusal names its field and how to fix it", () => {
  for (const [code, field] of [["direction_message", "Message:"], ["direction_note", "Note:"], ["direction_external_id", "External id:"]]) {
    const message = errorMessage(code);
    assert.ok(message.startsWith(field) && message.includes("U+202C"), message);
  }
});
