// The settings page's 08:00 peak section (src/lib/capacity.ts): what a submitted form stores, and
// the field named when it is refused. `npm test` compiles the TypeScript modules first.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { CAPACITY_FIELDS, capacityProblem, earlyMinutes, earlySummary, paidSummary, parseCapacityForm, starsFor } = require(
  "../.unit-build/capacity.js",
);

function form(entries) {
  const data = new FormData();
  for (const [name, value] of Object.entries(entries)) data.append(name, value);
  return data;
}

describe("parseCapacityForm", () => {
  test("minutes early are stored as seconds per kind; paid broadcast after N seconds", () => {
    const parsed = parseCapacityForm(form({ early_medication_reminder: "5", paid_mode: "after", paid_after_seconds: "120" }));
    assert.deepEqual(parsed, {
      ok: true,
      value: { early_send_seconds: { medication_reminder: 300 }, telegram_paid_broadcast_after_seconds: 120 },
    });
  });

  test("0 or blank minutes store no window; Off stores null whatever the seconds say", () => {
    for (const early of ["0", " ", ""]) {
      const parsed = parseCapacityForm(form({ early_medication_reminder: early, paid_mode: "off", paid_after_seconds: "x" }));
      assert.deepEqual(parsed, { ok: true, value: { early_send_seconds: {}, telegram_paid_broadcast_after_seconds: null } });
    }
  });

  test("0 seconds late pays for every message; the bounds are inclusive", () => {
    assert.equal(parseCapacityForm(form({ paid_mode: "after", paid_after_seconds: "0" })).value.telegram_paid_broadcast_after_seconds, 0);
    assert.equal(parseCapacityForm(form({ paid_mode: "after", paid_after_seconds: "86400" })).value.telegram_paid_broadcast_after_seconds, 86400);
    assert.deepEqual(parseCapacityForm(form({ early_medication_reminder: "60", paid_mode: "off" })).value.early_send_seconds, {
      medication_reminder: 3600,
    });
  });

  test("each bad value names its field", () => {
    const cases = [
      [{ early_medication_reminder: "61", paid_mode: "off" }, "early_medication_reminder"],
      [{ early_medication_reminder: "-1", paid_mode: "off" }, "early_medication_reminder"],
      [{ early_medication_reminder: "2.5", paid_mode: "off" }, "early_medication_reminder"],
      [{ early_medication_reminder: "five", paid_mode: "off" }, "early_medication_reminder"],
      [{ early_medication_reminder: "5" }, "paid_mode"],
      [{ paid_mode: "sometimes" }, "paid_mode"],
      [{ paid_mode: "after", paid_after_seconds: "" }, "paid_after_seconds"],
      [{ paid_mode: "after", paid_after_seconds: "86401" }, "paid_after_seconds"],
      [{ paid_mode: "after", paid_after_seconds: "1e3" }, "paid_after_seconds"],
      [{ paid_mode: "after", paid_after_seconds: "9".repeat(400) }, "paid_after_seconds"],
    ];
    for (const [entries, field] of cases) {
      const parsed = parseCapacityForm(form(entries));
      assert.deepEqual(parsed, { ok: false, field }, JSON.stringify(entries));
      assert.match(capacityProblem(field), /whole number|choose Off/);
    }
  });
});

describe("what the page says", () => {
  test("refusals name the field and the valid range; unknown codes say nothing", () => {
    assert.match(capacityProblem("early_medication_reminder"), /^Medication reminders early send window: .*0 to 60/);
    assert.match(capacityProblem("paid_after_seconds"), /^Paid broadcast: .*0 to 86,400/);
    assert.match(capacityProblem("admin_only"), /Only an admin/);
    assert.equal(capacityProblem("toString"), null);
    assert.equal(capacityProblem("<script>"), null);
    assert.equal(capacityProblem(null), null);
  });

  test("stored windows read in whole minutes, API-set seconds rounded down", () => {
    assert.equal(earlyMinutes({ medication_reminder: 300 }, "medication_reminder"), 5);
    assert.equal(earlyMinutes({ medication_reminder: 90 }, "medication_reminder"), 1);
    assert.equal(earlyMinutes({}, "medication_reminder"), 0);
    assert.equal(earlyMinutes({ medication_reminder: "300" }, "medication_reminder"), 0);
    assert.match(earlySummary({ medication_reminder: 600 }), /medication reminders up to 10 min early .*never a time-critical dose/);
    assert.match(earlySummary({}), /^Off/);
  });

  test("paid broadcast explains its cost: 0.1 Stars a message", () => {
    assert.equal(starsFor(1000), 100);
    assert.equal(starsFor(7), 0.7);
    assert.match(paidSummary(null), /^Off: .*30 messages a second/);
    assert.match(paidSummary(0), /every non-urgent message.*0\.1 Telegram Stars each \(1,000 messages: 100 Stars\)/);
    assert.match(paidSummary(90), /at least 90 s late/);
  });
});

describe("CAPACITY_FIELDS", () => {
  test("every field a refusal can name is sent back to the form as chosen", () => {
    const named = new Set();
    for (const entries of [
      { early_medication_reminder: "61", paid_mode: "off" },
      { early_medication_reminder: "5", paid_mode: "sometimes" },
      { early_medication_reminder: "5", paid_mode: "after", paid_after_seconds: "soon" },
    ]) {
      const parsed = parseCapacityForm(form(entries));
      assert.equal(parsed.ok, false);
      named.add(parsed.field);
    }
    assert.deepEqual([...named].filter((field) => !CAPACITY_FIELDS.includes(field)), []);
    assert.deepEqual([...CAPACITY_FIELDS].sort(), ["early_medication_reminder", "paid_after_seconds", "paid_mode"]);
  });
});
