// Unit tests of src/lib/schedule-summary.ts: a reminder schedule in one line on the patient's page.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { scheduleSummary } = require("../.unit-build/schedule-summary.js");

const daily = {
  times_of_day: ["08:00:00", "20:00:00"],
  days_of_week: null,
  every_n_days: null,
  start_date: "2026-12-05",
  end_date: null,
  max_count: null,
  status: "active",
};

describe("scheduleSummary", () => {
  test("a schedule without end", () => {
    assert.equal(scheduleSummary(daily), "08:00, 20:00 · every day · from 2026-12-05 · active");
  });
  test("a counted course says how many doses it holds (it read as every day without end)", () => {
    assert.equal(
      scheduleSummary({ ...daily, max_count: 30 }),
      "08:00, 20:00 · every day · from 2026-12-05 · 30 doses in all · active",
    );
    assert.equal(
      scheduleSummary({ ...daily, max_count: 1, end_date: "2027-01-01" }),
      "08:00, 20:00 · every day · from 2026-12-05 to 2027-01-01 · 1 dose in all · active",
    );
  });
  test("weekdays and a day interval together name both (the interval was left out)", () => {
    assert.equal(
      scheduleSummary({ ...daily, days_of_week: [1, 4], every_n_days: 3 }),
      "08:00, 20:00 · every 3 days from the start, on Mon Thu only · from 2026-12-05 · active",
    );
    assert.equal(scheduleSummary({ ...daily, days_of_week: [1, 4] }).split(" · ")[1], "Mon Thu");
    assert.equal(scheduleSummary({ ...daily, every_n_days: 2 }).split(" · ")[1], "every 2 days");
  });
});
