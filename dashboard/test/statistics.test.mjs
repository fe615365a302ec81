// The statistics page's pure parts: the period asked for and CSV export.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { parsePeriod, toCsv, todayIn, isDay, percent, CHART_COLORS, tableNameProblem } = require("../.unit-build/statistics.js");

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
    // The API's years: PostgreSQL has no year 0000 (the page was a 500).
    assert.equal(parsePeriod("0000-01-01", "0000-01-02", "2026-03-10").error, "To: give a date between 2000-01-01 and 2999-12-31.");
    assert.equal(parsePeriod("1999-12-31", "2000-01-01", "2026-03-10").error, "From: give a date between 2000-01-01 and 2999-12-31.");
    assert.equal(parsePeriod("2999-12-30", "2999-12-31", "2026-03-10").error, null);
    assert.deepEqual(parsePeriod(undefined, "2000-01-05", "2026-03-10"), { from: "2000-01-01", to: "2000-01-05", error: null });
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

describe("CHART_COLORS", () => {
  // WCAG 2's relative luminance of an sRGB colour and the contrast ratio of two colours.
  const channel = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const luminance = (hex) => {
    assert.match(hex, /^#[0-9a-f]{6}$/i, `${hex} is a #rrggbb colour`);
    const [r, g, b] = [1, 3, 5].map((i) => channel(parseInt(hex.slice(i, i + 2), 16) / 255));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  // The colours the charts stand on and write with, as the stylesheet has them.
  const css = readFileSync(new URL("../src/app/globals.css", import.meta.url), "utf8");
  const variable = (name) => new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`).exec(css)?.[1];
  const panel = variable("panel");
  const text = variable("text");

  test("the ratio is WCAG's", () => {
    assert.equal(contrast("#000000", "#ffffff"), 21);
    assert.equal(contrast("#ffffff", "#ffffff"), 1);
    assert.equal(contrast("#ffffff", "#000000"), 21); // either way round
    assert.equal(contrast("#767676", "#ffffff").toFixed(2), "4.54"); // the lightest grey for text
    assert.equal(contrast("#a0aec0", "#ffffff").toFixed(2), "2.26"); // the old outbox grey
  });
  test("every series stands out from the chart's panel by at least 3:1 (WCAG 1.4.11)", () => {
    assert.ok(panel, "--panel in globals.css");
    for (const [series, color] of Object.entries(CHART_COLORS)) {
      const ratio = contrast(color, panel);
      assert.ok(ratio >= 3, `${series} ${color} on ${panel}: ${ratio.toFixed(2)}:1`);
    }
  });
  test("the legends' text (the page's text colour) reads at 4.5:1 on the panel", () => {
    assert.ok(text, "--text in globals.css");
    assert.ok(contrast(text, panel) >= 4.5, `${text} on ${panel}`);
  });
});

describe("tableNameProblem", () => {
  // The export's 400 said "table: name one of the statistics tables" without naming any.
  test("names what was asked and every table there is", () => {
    const problem = tableNameProblem("doses");
    assert.match(problem, /^table 'doses' is not a statistics table: use one of messages_by_channel_status, delivery, /);
    assert.match(tableNameProblem(null), /^table is missing: use one of /);
  });
});
