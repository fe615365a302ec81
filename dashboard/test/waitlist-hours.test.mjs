// The waitlist form's hours (src/lib/waitlist-hours.ts): Until before From is a night, the same
// time for both is refused on Until (migration 20260101019470), and the list says a night so.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { waitlistHoursProblem, waitlistHoursLabel } = require("../.unit-build/waitlist-hours.js");
const { errorMessage } = require("../.unit-build/errors.js");

test("a night is taken; it was refused as hours the wrong way round", () => {
  assert.equal(waitlistHoursProblem("23:30", "01:00"), null);
  assert.equal(waitlistHoursProblem("09:00", "12:00"), null);
  assert.equal(waitlistHoursProblem("22:00", null), null);
  assert.equal(waitlistHoursProblem(null, "10:00"), null);
  assert.equal(waitlistHoursProblem(null, null), null);
});

test("the same time for both, or a time that is not HH:MM, is refused on its field", () => {
  assert.equal(waitlistHoursProblem("09:00", "09:00"), "latest");
  assert.equal(waitlistHoursProblem("00:00", "00:00"), "latest");
  assert.equal(waitlistHoursProblem("9am", "12:00"), "earliest");
  assert.equal(waitlistHoursProblem("09:00", "24:00"), "latest");
  assert.match(errorMessage("waitlist_hours"), /^Until: type From and Until as two different times/);
  assert.match(errorMessage("waitlist_hours"), /Until before From is the next day/);
});

test("the list names a night's end as the next day's", () => {
  assert.equal(waitlistHoursLabel("23:30", "01:00"), "23:30–01:00 next day");
  assert.equal(waitlistHoursLabel("09:00", "12:00"), "09:00–12:00");
  assert.equal(waitlistHoursLabel("22:00", null), "22:00–…");
  assert.equal(waitlistHoursLabel(null, "10:00"), "…–10:00");
  assert.equal(waitlistHoursLabel(null, null), "Any time");
});
