// Unit tests of the appointment reminder offsets as the clinic types them (src/lib/offsets.ts).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { offsetsInput, offsetsLabel, parseOffsets } = require("../.unit-build/offsets.js");

describe("parseOffsets", () => {
  const cases = [
    ["24 2", [1440, 120]],
    ["2, 24", [1440, 120]],
    ["24h 30m", [1440, 30]],
    ["48 3 3", [2880, 180]],
    ["", "clinic"],
    ["   ", "clinic"],
    ["4m", null], // under 5 minutes
    ["337", null], // over 14 days
    ["tomorrow", null],
    ["1 2 3 4 5 6 7", null], // at most six
    ["-2", null],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(parseOffsets(text), expected));
  }
});

test("offsetsLabel and offsetsInput read back what parseOffsets takes", () => {
  assert.equal(offsetsLabel([120, 1440, 90]), "24 h, 2 h, 90 min");
  assert.equal(offsetsInput([120, 1440, 90]), "24 2 90m");
  assert.deepEqual(parseOffsets(offsetsInput([2880, 45])), [2880, 45]);
  assert.equal(offsetsInput(null), "");
});
