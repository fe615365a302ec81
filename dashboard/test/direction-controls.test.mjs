// Direction controls left open on their line in the dashboard's kept-as-written texts (Compose's
// message, a waitlist note, an external id): the API's rule (core/direction_controls.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { unclosedDirectionControl } = require("../.unit-build/direction-controls.js");
const { errorMessage } = require("../.unit-build/errors.js");
// The vectors the API's rule is held to as well (tests/unit/test_direction_controls.py).
const { vectors } = JSON.parse(readFileSync(new URL("./direction-controls.json", import.meta.url), "utf8"));

test("the shared vectors hold for the dashboard's copy of the rule", () => {
  const differ = [];
  for (const vector of vectors) {
    const ours = unclosedDirectionControl(vector.text);
    if (JSON.stringify(ours) !== JSON.stringify(vector.open)) {
      differ.push(`${JSON.stringify(vector.text)}: dashboard ${JSON.stringify(ours)}, vectors ${JSON.stringify(vector.open)}`);
    }
  }
  assert.deepEqual(differ, []);
  assert.ok(vectors.length > 30);
});

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

test("a template's text is held to the rule without the API too, as the API holds it", () => {
  const { templateProblems } = require("../.unit-build/placeholders.js");
  const problems = templateProblems("Hello {{ patient_name }}\nYour dose at \u202e20:00", "default");
  assert.equal(problems.length, 1, problems.join(" "));
  assert.ok(problems[0].startsWith("Line 2:") && problems[0].includes("U+202E") && problems[0].includes("U+202C"), problems[0]);
  assert.deepEqual(templateProblems("Results \u202eARABIC\u202c ready", "default"), []);
});
