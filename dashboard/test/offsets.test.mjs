// Unit tests of the appointment reminder offsets as the clinic types them (src/lib/offsets.ts):
// one form for Settings and the patient's page, each field with its own bounds.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { CLINIC_OFFSETS, offsetsInput, offsetsLabel, parseOffsetList, parseOffsets } = require("../.unit-build/offsets.js");

describe("parseOffsets (the patient's page)", () => {
  const cases = [
    ["24h 2h", [1440, 120]],
    ["2h, 24h", [1440, 120]],
    ["24h 30m", [1440, 30]],
    ["1d, 90min", [1440, 90]],
    ["48h 3h 3h", [2880, 180]],
    ["", "clinic"],
    ["   ", "clinic"],
    ["24 2", null], // a bare number: hours here, minutes in Settings before
    ["4m", null], // under 5 minutes
    ["337h", null], // over 14 days
    ["tomorrow", null],
    ["1h 2h 3h 4h 5h 6h 7h", null], // at most six
    ["-2h", null],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(parseOffsets(text), expected));
  }
});

describe("parseOffsetList (the clinic's Settings): the same form", () => {
  const cases = [
    ["24h, 2h", [1440, 120]],
    ["1d 2h", [1440, 120]],
    ["", []], // no reminders
    ["1440, 120", null], // minutes without a unit were Settings' form: refused, never read as hours
    ["120", null],
    ["30d", [43200]],
    ["31d", null], // over 30 days
    ["1m", [1]],
    ["1h 2h 3h 4h 5h 6h 7h 8h 9h 10h", [600, 540, 480, 420, 360, 300, 240, 180, 120, 60]],
    ["1h 2h 3h 4h 5h 6h 7h 8h 9h 10h 11h", null], // at most ten
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.deepEqual(parseOffsetList(text, CLINIC_OFFSETS), expected));
  }
});

test("offsetsLabel and offsetsInput read back what both fields take", () => {
  assert.equal(offsetsLabel([120, 1440, 90]), "24 h, 2 h, 90 min");
  assert.equal(offsetsInput([120, 1440, 90]), "24h 2h 90m");
  assert.deepEqual(parseOffsets(offsetsInput([2880, 45])), [2880, 45]);
  assert.deepEqual(parseOffsetList(offsetsInput([1440, 120]), CLINIC_OFFSETS), [1440, 120]);
  assert.equal(offsetsInput(null), "");
  assert.equal(offsetsInput([]), "");
});
