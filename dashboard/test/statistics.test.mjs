// The statistics page's pure parts: the period asked for and CSV export.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { parsePeriod, toCsv, todayIn, isDay, percent } = require("../.unit-build/statistics.js");

describe("parsePeriod", () => {
  test("defaults to the last 30 days up to today", () => {
    assert.deepEqual(parsePeriod(undefined, undefined, "2026-03-10"), { from: "2026-02-09", to: "2026-03-10", error: null });
  });
  test("takes both days as given", () => {
    assert.deepEqual(parsePeriod("2026-01-01", "2026-01-31", "2026-03-10"), { from: "2026-01-01", to: "2026-01-31", error: null });
  });
  test("refuses impossible dates, reversed and over-long periods with a reason", () => {
    assert.match(parsePeriod("2026-02-30", "2026-03-01", "2026-03-10").error, /From/);
    assert.match(parsePeriod("2026-03-02", "2026-03-01", "2026-03-10").error, /after/);
    assert.match(parsePeriod("2024-01-01", "2026-01-01", "2026-03-10").error, /366/);
    assert.equal(parsePeriod("2026-03-02", "2026-03-01", "2026-03-10").to, "2026-03-10");
  });
  test("isDay", () => {
    assert.equal(isDay("2028-02-29"), true);
    assert.equal(isDay("2027-02-29"), false);
    assert.equal(isDay("2027-2-1"), false);
  });
});

describe("toCsv", () => {
  test("header, columns in order, empty cells for nulls, CRLF", () => {
    const csv = toCsv("confirmation", [{ confirmed: 3, reminded: 5, confirmation_rate: null }]);
    assert.equal(csv, "reminded,confirmed,confirmation_rate\r\n5,3,\r\n");
  });
  test("quotes and neutralises formula-like text", () => {
    const csv = toCsv("appointment_outcomes", [{ status: '=HYPERLINK("x")', appointments: 1 }]);
    assert.equal(csv, 'status,appointments\r\n"\'=HYPERLINK(""x"")",1\r\n');
  });
});

test("todayIn takes the clinic's calendar", () => {
  const instant = new Date("2026-03-10T23:30:00Z");
  assert.equal(todayIn("UTC", instant), "2026-03-10");
  assert.equal(todayIn("Europe/Berlin", instant), "2026-03-11");
  assert.equal(percent(0.6667), "66.7%");
  assert.equal(percent(null), "—");
});
