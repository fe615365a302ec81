// Unit tests of the dashboard's copies of the API's newer checks: a fixed-offset zone
// (src/lib/time.ts timezoneProblem; the API's 422, medremind/web/api_v1/fields.py) and template
// markup in a composed text (src/lib/placeholders.ts templateMarkup; the API's 422 on `text`).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { timezoneProblem } = require("../.unit-build/time.js");
const { templateMarkup } = require("../.unit-build/placeholders.js");

describe("timezoneProblem", () => {
  const cases = [
    ["Europe/Berlin", null],
    ["US/Eastern", null],
    ["Etc/GMT", null],
    ["Etc/GMT+0", null],
    ["UTC", null],
    ["HST", null],
    ["Etc/GMT+5", "timezone_fixed_offset"],
    ["etc/gmt-14", "timezone_fixed_offset"],
    [" Etc/GMT+12 ", "timezone_fixed_offset"],
    ["EST", "timezone_fixed_region"],
    ["mst", "timezone_fixed_region"],
    ["+05:00", "timezone"],
    ["Factory", "timezone"],
    ["Mars/Olympus", "timezone"],
  ];
  for (const [zone, expected] of cases) test(JSON.stringify(zone), () => assert.equal(timezoneProblem(zone), expected));
});

describe("templateMarkup", () => {
  const cases = [
    ["Hi {{ patient_name }}, from {{clinic_name}}.", null],
    ["Prices in {curly} braces", null],
    ["Your code is {{1}}", "{{1}}"],
    ["{% if x %}yes{% endif %}", "{% if x %}"],
    ["Hi {{ patient_name | upper }}", "{{ patient_name | upper }}"],
    ["Hi {{ name }}", "{{ name }}"],
  ];
  for (const [text, expected] of cases) test(JSON.stringify(text), () => assert.equal(templateMarkup(text), expected));
});
