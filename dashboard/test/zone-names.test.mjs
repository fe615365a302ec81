// A zone typed on the dashboard is stored under the name the API stores it under
// (src/lib/time.ts canonicalTimezone; core/zone_names.py): one table for both, zone-names.json,
// written and checked by the Python side (tests/unit/test_zone_names.py).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { canonicalTimezone } = require("../.unit-build/time.js");
const table = JSON.parse(readFileSync(new URL("./zone-names.json", import.meta.url), "utf8"));

test("every IANA zone name is stored as the API stores it", () => {
  const differ = [];
  let unknown = 0;
  for (const [typed, stored] of Object.entries(table)) {
    const ours = canonicalTimezone(typed);
    // A zone newer than the browser's ICU data: refused here (named in the form), never stored
    // under another name.
    if (ours === null) unknown += 1;
    else if (ours !== stored) differ.push(`${typed}: dashboard ${ours}, API ${stored}`);
  }
  assert.deepEqual(differ, []);
  assert.ok(unknown < 5, `${unknown} zones unknown to this ICU`);
});

test("US/Eastern, Asia/Calcutta and Asia/Kolkata as the API stores them", () => {
  assert.equal(table["US/Eastern"], "America/New_York");
  assert.equal(canonicalTimezone("US/Eastern"), "America/New_York");
  assert.equal(canonicalTimezone("Asia/Kolkata"), "Asia/Kolkata");
  assert.equal(canonicalTimezone("Asia/Calcutta"), "Asia/Kolkata");
  assert.equal(canonicalTimezone("Europe/Amsterdam"), "Europe/Amsterdam");
});
