// When the patient page says a caregiver is alerted (src/lib/caregiver-alerts.ts): a caregiver
// whose alerts are held reads on what condition, never a bare "alerted after 30 min" beside the
// bold "no alerts" (commit 38b2cb3; tests/dashboard/test_caregiver_awaits_link_e2e.py sees it in
// Chromium for the awaited link only).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { alertTiming } = require("../.unit-build/caregiver-alerts.js");

const AT = new Date("2026-12-03T08:00:05Z");

function caregiver(extra = {}) {
  return {
    alert_delay_minutes: 30,
    active: true,
    opted_out_at: null,
    blocked_at: null,
    awaiting_link_since: null,
    ...extra,
  };
}

describe("alertTiming", () => {
  test("a caregiver who gets alerts: after their delay", () => {
    assert.equal(alertTiming(caregiver()), "alerted after 30 min");
    assert.equal(alertTiming(caregiver({ alert_delay_minutes: 0 })), "alerted after 0 min");
  });

  test("opted out (STOP, /stop, the carrier): once they send START", () => {
    assert.equal(
      alertTiming(caregiver({ opted_out_at: AT })),
      "alerted after 30 min once they send START",
    );
    // As the database driver or a JSON page hands it: a string is a time too.
    assert.equal(
      alertTiming(caregiver({ opted_out_at: AT.toISOString() })),
      "alerted after 30 min once they send START",
    );
  });

  test("unreachable (a permanent refusal): once they write to the service", () => {
    assert.equal(
      alertTiming(caregiver({ blocked_at: AT })),
      "alerted after 30 min once they write to the service",
    );
  });

  test("a typed Telegram chat id: once their own chat opens a link", () => {
    assert.equal(
      alertTiming(caregiver({ awaiting_link_since: AT })),
      "alerted after 30 min once their own chat opens a link",
    );
  });

  test("inactive (replaced by the patient's later choice): no alerts, whatever else holds", () => {
    assert.equal(alertTiming(caregiver({ active: false })), "no alerts");
    const all = { opted_out_at: AT, blocked_at: AT, awaiting_link_since: AT };
    assert.equal(alertTiming(caregiver({ active: false, ...all })), "no alerts");
  });

  test("held for two reasons: the one the caregiver must end first (START before writing)", () => {
    assert.equal(
      alertTiming(caregiver({ opted_out_at: AT, blocked_at: AT, awaiting_link_since: AT })),
      "alerted after 30 min once they send START",
    );
    assert.equal(
      alertTiming(caregiver({ blocked_at: AT, awaiting_link_since: AT })),
      "alerted after 30 min once they write to the service",
    );
  });

  test("no held caregiver's line is the bare delay", () => {
    for (const held of [{ opted_out_at: AT }, { blocked_at: AT }, { awaiting_link_since: AT }]) {
      const line = alertTiming(caregiver(held));
      assert.notEqual(line, "alerted after 30 min");
      assert.match(line, /^alerted after 30 min once /);
    }
  });
});
