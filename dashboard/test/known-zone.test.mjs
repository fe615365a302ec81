// A patient stored in Etc/Unknown ("Factory" before the API refused it): the patient page
// formats no date in it (src/lib/time.ts isKnownZone); it failed as a whole before.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { isKnownZone, formatInZone } = require("../.unit-build/time.js");

test("Etc/Unknown is no zone to show a date in; places' zones are", () => {
  assert.equal(isKnownZone("Etc/Unknown"), false);
  assert.equal(isKnownZone(""), false);
  assert.throws(() => formatInZone("2027-01-05T10:00:00Z", "Etc/Unknown"), RangeError);
  for (const zone of ["Europe/Madrid", "America/Bogota", "UTC", "Asia/Kolkata"]) {
    assert.equal(isKnownZone(zone), true, zone);
  }
});
