// Unit tests of src/lib/delivery.ts: outbox deliveries never read as a send, and which failed
// messages offer "Re-send" (`npm test` compiles the TypeScript modules to .unit-build/ first).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { OUTBOX_LABEL, canResend, channelLabel, resendClosedText, resendError, kindLabel } = require("../.unit-build/delivery.js");

describe("channelLabel", () => {
  test("a provider send shows its channel only", () => {
    assert.equal(channelLabel({ platform: "auto", channel_used: "sms", via_outbox: false }), "sms");
  });
  test("an outbox delivery says it was not received", () => {
    const label = channelLabel({ platform: "auto", channel_used: "sms", via_outbox: true });
    assert.equal(label, `sms · ${OUTBOX_LABEL}`);
    assert.match(label, /not received/);
  });
  test("before a send, the channel asked for", () => {
    assert.equal(channelLabel({ platform: "email", channel_used: null, via_outbox: false }), "email");
  });
});

describe("canResend", () => {
  const cases = [
    ["failed", null, true],
    ["failed", "7a1c2d3e-0000-4000-8000-000000000001", false], // re-sent already: its copy
    ["sent", null, false],
    ["delivered", null, false],
    ["pending", null, false],
    ["cancelled", null, false],
    ["expired", null, false],
  ];
  for (const [status, resentAs, expected] of cases) {
    test(`${status}${resentAs ? " (re-sent)" : ""}: ${expected}`, () => {
      assert.equal(canResend({ status, resent_as: resentAs, resend_closed: null }), expected);
    });
  }
  // A dose's reminder past its time, or of an answered dose: public.resend_message refuses it.
  for (const closed of ["too_late", "dose_closed"]) {
    test(`failed, ${closed}: false, and says why`, () => {
      const m = { status: "failed", resent_as: null, resend_closed: closed };
      assert.equal(canResend(m), false);
      assert.match(resendClosedText(m), /^Not re-sendable: /);
    });
  }
  test("a message that can be re-sent says nothing", () => {
    assert.equal(resendClosedText({ status: "failed", resent_as: null, resend_closed: null }), null);
  });
});

describe("resendError", () => {
  test("a copy made is no error", () => assert.equal(resendError("resent"), null));
  for (const outcome of ["already_resent", "not_failed", "patient_erased", "resend_unreachable", "dose_closed", "too_late"]) {
    test(`${outcome} is its own error code`, () => assert.equal(resendError(outcome), outcome));
  }
  test("not found names the message, as Cancel and Send now do", () => assert.equal(resendError("not_found"), "message_not_found"));
  test("anything else reads as not found", () => assert.equal(resendError("surprise"), "message_not_found"));
});

test("kindLabel: a dose's message names its medicine; others their kind", () => {
  assert.equal(kindLabel("medication_reminder", "Metformin"), "medication reminder · Metformin");
  assert.equal(kindLabel("dose_followup", "ميتفورمين"), "dose followup · ميتفورمين");
  assert.equal(kindLabel("appointment_reminder", null), "appointment reminder");
});

test("lastErrorTone: a pending message held by quiet hours is a note, anything else an error", () => {
  const { lastErrorTone } = require("../.unit-build/delivery.js");
  assert.equal(lastErrorTone("pending", "deferred to the end of quiet hours"), "note");
  assert.equal(lastErrorTone("pending", "quiet hours changed: no longer deferred"), "note");
  assert.equal(lastErrorTone("pending", "telegram: 502 Bad Gateway"), "error");
  assert.equal(lastErrorTone("failed", "deferred to the end of quiet hours"), "error");
});

describe("resentNotice: what a re-send's notice says", () => {
  const { resentNotice } = require("../.unit-build/delivery.js");
  test("the copy made; at normal priority when the clinic's share of priority 0 is taken", () => {
    assert.equal(resentNotice("1"), "Re-sent: a new message is on its way; the failed one keeps its delivery history.");
    assert.match(resentNotice("share"), /^Re-sent: .* It goes at normal priority, after the dose reminders due with it/);
  });
  test("nothing for another value (a URL typed by hand)", () => {
    for (const value of [undefined, "", "0", ["1"]]) assert.equal(resentNotice(value), null);
  });
});

describe("cancelledNotice: what Cancel of a pending message says", () => {
  const { cancelledNotice } = require("../.unit-build/delivery.js");
  test("?cancelled=1 says it will not be sent and where it is listed", () => {
    assert.equal(cancelledNotice("1"), "Cancelled: the message will not be sent. It is listed under the status cancelled.");
  });
  test("anything else says nothing", () => {
    for (const value of [undefined, "", "0", "yes", ["1"]]) assert.equal(cancelledNotice(value), null);
  });
});
