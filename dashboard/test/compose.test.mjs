// Unit tests of src/lib/compose.ts: which template version Compose previews (the same choice as
// the worker's pick_version in scheduler/custom_templates.py), whether a channel has a version,
// the template name the form sends, what Compose does with a patient no channel reaches, and
// what it says after a group message that left patients out. `npm test` compiles the module to .unit-build/ first.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { groupCountText, groupReport, pickVersion, reachVerdict, templateChoices, templateChannelProblem, templateNameFromForm } = require(
  "../.unit-build/compose.js",
);
const { errorMessage } = require("../.unit-build/errors.js");

const v = (locale, channel, name = "checkup") => ({ name, locale, channel, body: `${locale}/${channel}` });

describe("pickVersion (mirrors the worker's pick_version)", () => {
  const all = [v("en", "default"), v("en", "sms"), v("es", "default"), v("es", "telegram"), v("fr", "sms")];
  const cases = [
    // locale, channel, expected body: the locale's channel version, then its default ...
    ["es", "telegram", "es/telegram"],
    ["es", "sms", "es/default"],
    // ... the language of a regional locale ...
    ["es-MX", "telegram", "es/telegram"],
    ["es_AR", "email", "es/default"],
    // ... then English, then the other locales alphabetically.
    ["de", "sms", "en/sms"],
    ["de", "whatsapp", "en/default"],
  ];
  for (const [locale, channel, expected] of cases) {
    test(`${locale} on ${channel} -> ${expected}`, () => {
      assert.equal(pickVersion(all, locale, channel)?.body, expected);
    });
  }
  test("another locale when neither the patient's nor English has one", () => {
    assert.equal(pickVersion([v("fr", "default"), v("es", "default")], "de", "sms")?.body, "es/default");
  });
  test("null when no version fits the channel", () => {
    assert.equal(pickVersion([v("en", "sms"), v("es", "telegram")], "en", "email"), null);
    assert.equal(pickVersion([], "en", "default"), null);
  });
});

describe("templateChoices", () => {
  test("one choice per name, sorted, previewed in the clinic's language for any channel", () => {
    const rows = [v("en", "default", "zeta"), v("es", "default", "alpha"), v("en", "default", "alpha"), v("es", "sms", "alpha")];
    const choices = templateChoices(rows, "es");
    assert.deepEqual(
      choices.map((c) => [c.name, c.versions, c.preview.body]),
      [
        ["alpha", ["en/default", "es/default", "es/sms"], "es/default"],
        ["zeta", ["en/default"], "en/default"],
      ],
    );
  });
  test("a template with channel versions only is previewed from one of them", () => {
    const [choice] = templateChoices([v("es", "sms"), v("en", "telegram")], "en");
    assert.equal(choice.preview.body, "en/telegram");
  });
  test("no templates, no choices", () => {
    assert.deepEqual(templateChoices([], "en"), []);
  });
});

describe("templateChannelProblem", () => {
  test("a version for any channel serves every channel and auto", () => {
    for (const platform of ["auto", "telegram", "sms", "email"]) {
      assert.equal(templateChannelProblem([{ channel: "sms" }, { channel: "default" }], platform), null);
    }
  });
  test("a channel with its own version", () => {
    assert.equal(templateChannelProblem([{ channel: "sms" }], "sms"), null);
  });
  test("a channel without a version is refused, naming what exists", () => {
    assert.match(templateChannelProblem([{ channel: "sms" }, { channel: "telegram" }], "email"), /no version for email \(only sms, telegram\)/);
  });
  test("auto needs a version for any channel (the channel is only known per patient)", () => {
    assert.match(templateChannelProblem([{ channel: "sms" }], "auto"), /only has versions for sms/);
  });
  test("no versions at all", () => {
    assert.match(templateChannelProblem([], "auto"), /no saved text/);
  });
});

describe("templateNameFromForm", () => {
  test("trimmed names within 1..100 characters", () => {
    assert.equal(templateNameFromForm("  Blood test "), "Blood test");
    assert.equal(templateNameFromForm("x".repeat(100)), "x".repeat(100));
  });
  test("empty, too long or not a string is null", () => {
    assert.equal(templateNameFromForm("   "), null);
    assert.equal(templateNameFromForm("x".repeat(101)), null);
    assert.equal(templateNameFromForm(null), null);
    assert.equal(templateNameFromForm(undefined), null);
  });
});

describe("reachVerdict (the API's rule: refuse a message due soon that nothing reaches, warn a later one)", () => {
  // The route and due_soon come from public.message_reach (migration 20260101015200).
  test("a route: sent, whenever it is due", () => {
    assert.equal(reachVerdict({ consented: true, route: ["sms"], due_soon: true }), "reaches");
    assert.equal(reachVerdict({ consented: true, route: ["telegram", "sms"], due_soon: false }), "reaches");
  });
  test("no route, due within the window: refused", () => {
    assert.equal(reachVerdict({ consented: true, route: [], due_soon: true }), "refuse");
  });
  test("no route, due later: kept with a notice (the patient may reply START meanwhile)", () => {
    assert.equal(reachVerdict({ consented: true, route: [], due_soon: false }), "warn");
  });
  test("not consented yet (invited): refused now and later, reachable or not, as the API's 409", () => {
    // Before, the row was inserted and the worker cancelled it ("no consent recorded"), unseen.
    for (const route of [["sms"], []]) {
      for (const due_soon of [true, false]) {
        assert.equal(reachVerdict({ consented: false, route, due_soon }), "not_consented");
      }
    }
  });
  test("the refusals name the invite link, the remedy for an invited patient or one with no contact point", () => {
    assert.match(errorMessage("not_consented"), /^Patient: this patient has not consented yet \(invited\).*Make an invite link/);
    for (const code of ["unreachable", "unreachable_now", "resend_unreachable"]) {
      assert.match(errorMessage(code), /without a contact point once they open an invite link/, code);
    }
    assert.match(groupReport({ scheduled: 0, skipped: ["A"], unreachableLater: [], notConsented: [], refusalMinutes: 15 }).fix, /invite link/);
  });
});

describe("the refusal window is the database's (public.unreachable_refusal_minutes), never a literal", () => {
  test("Compose's refusal names the window it was given, twice", () => {
    const text = errorMessage("unreachable", 20);
    assert.match(text, /a message due within 20 minutes would fail unsent/);
    assert.match(text, /schedule it at least 20 minutes ahead/);
    assert.doesNotMatch(text, /15/);
  });
  test("without a window it names no number", () => {
    assert.doesNotMatch(errorMessage("unreachable"), /\d/);
  });
  test("a group's skipped patients name the window too", () => {
    const text = groupReport({ scheduled: 1, skipped: ["A"], unreachableLater: [], notConsented: [], refusalMinutes: 30 });
    assert.match(text.skipped, /a message due within 30 minutes would fail unsent/);
  });
});

describe("groupReport (what Compose says after a group message that left patients out)", () => {
  test("skipped patients are counted, said why, and what lets a message through", () => {
    const text = groupReport({ scheduled: 3, skipped: ["Sam Stopped", "Unnamed patient (SMS …0199)"], unreachableLater: [], notConsented: [], refusalMinutes: 15 });
    assert.equal(text.summary, "Scheduled for 3 patients.");
    assert.equal(
      text.skipped,
      "Not sent to 2 patients: no channel reaches them now (each contact point is missing, opted out or blocked), and a message due within 15 minutes would fail unsent.",
    );
    assert.equal(text.later, null);
    assert.match(text.fix, /once they reply START/);
  });
  test("a later message kept for one unreachable patient says it fails unless they come back", () => {
    const text = groupReport({ scheduled: 1, skipped: [], unreachableLater: ["Sam Stopped"], notConsented: [], refusalMinutes: 15 });
    assert.equal(text.summary, "Scheduled for 1 patient.");
    assert.equal(text.skipped, null);
    assert.match(text.later, /^Scheduled, but no channel reaches this patient now: their message fails unsent when due/);
    assert.equal(text.notConsented, null);
  });
  test("invited members are named as not sent to, with the invite link to send them (the API's 409)", () => {
    const text = groupReport({ scheduled: 2, skipped: [], unreachableLater: [], notConsented: ["Ivy Invited"], refusalMinutes: 15 });
    assert.equal(
      text.notConsented,
      "Not sent to 1 patient who has not consented yet (invited): nothing but a service notice goes to them before they join. Send them an invite link (Make an invite link on their page) and send this message once they have joined.",
    );
    assert.equal(text.skipped, null);
  });
});

describe("groupCountText (Compose's recipient count, with those no channel reaches now)", () => {
  test("everyone reachable: as before", () => {
    assert.equal(groupCountText({ total: 1, unreachable: 0 }), "1 patient will receive it.");
    assert.equal(groupCountText({ total: 12, unreachable: 0 }), "12 patients will receive it.");
  });
  test("some unreachable: how many, and what a message now or later does", () => {
    assert.equal(
      groupCountText({ total: 2, unreachable: 1 }),
      "2 patients match. No channel reaches 1 of them now: a message sent now leaves that patient out, a later one goes to them if they can be reached by then.",
    );
    assert.match(groupCountText({ total: 3, unreachable: 3 }), /^3 patients match\. No channel reaches any of them now: a message sent now leaves those patients out/);
    assert.match(groupCountText({ total: 1, unreachable: 1 }), /^1 patient matches\. No channel reaches them now/);
  });
  test("invited patients who match are counted apart: nothing goes to them", () => {
    assert.equal(
      groupCountText({ total: 2, unreachable: 0, invited: 1 }),
      "2 patients will receive it. 1 patient who has not consented yet (invited) matches too: nothing goes to them before they join.",
    );
    assert.equal(groupCountText({ total: 0, unreachable: 0, invited: 0 }), "0 patients will receive it.");
  });
  test("urgent: how many are inside their quiet hours then and get it at night; not urgent: nothing said", () => {
    assert.equal(
      groupCountText({ total: 3, unreachable: 0, invited: 0, night: 2 }, true),
      "3 patients will receive it. Urgent: 2 of them are inside their quiet hours then and will get it at night. Untick Urgent to have theirs wait until their quiet hours end.",
    );
    assert.match(groupCountText({ total: 1, unreachable: 0, invited: 0, night: 1 }, true), /Urgent: This patient is inside their quiet hours/);
    assert.match(groupCountText({ total: 4, unreachable: 0, invited: 0, night: 4 }, true), /Urgent: All 4 are inside/);
    assert.equal(groupCountText({ total: 3, unreachable: 0, invited: 0, night: 2 }, false), "3 patients will receive it.");
    assert.equal(groupCountText({ total: 3, unreachable: 0, invited: 0, night: 0 }, true), "3 patients will receive it.");
    // Counted for another time than the one chosen since: count again to know.
    assert.match(groupCountText({ total: 3, unreachable: 0, invited: 0, night: 2 }, true, false), /^3 patients will receive it\. Urgent: press Count recipients again/);
    assert.equal(groupCountText({ total: 3, unreachable: 0, invited: 0, night: 2 }, false, false), "3 patients will receive it.");
  });
});

test("a group message goes only as counted: uncounted, or counted before the group changed, is refused", () => {
  const { groupConfirmProblem, groupSendLabel } = require("../.unit-build/compose.js");
  assert.equal(groupConfirmProblem(null, 45), "group_uncounted");
  assert.equal(groupConfirmProblem("", 45), "group_uncounted");
  assert.equal(groupConfirmProblem("forty", 45), "group_uncounted");
  assert.equal(groupConfirmProblem("44", 45), "group_changed");
  assert.equal(groupConfirmProblem("45", 45), null);
  assert.equal(groupConfirmProblem("0", 0), null);
  // Urgent: as many inside their quiet hours as counted.
  assert.equal(groupConfirmProblem("45", 45, { confirmed: "3", now: 3 }), null);
  assert.equal(groupConfirmProblem("45", 45, { confirmed: "0", now: 3 }), "group_night_changed");
  assert.equal(groupConfirmProblem("45", 45, { confirmed: null, now: 0 }), "group_uncounted");
  assert.equal(groupConfirmProblem("44", 45, { confirmed: "3", now: 3 }), "group_changed");
  assert.equal(groupSendLabel("now", null), "Send now to the group");
  assert.equal(groupSendLabel("later", 1), "Schedule to the group (1 patient)");
  assert.equal(groupSendLabel("now", 45), "Send now to the group (45 patients)");
  for (const code of ["group_uncounted", "group_changed", "group_night_changed"]) {
    const { errorMessage } = require("../.unit-build/errors.js");
    const message = errorMessage(code);
    assert.ok(message.startsWith("Recipients:") && message.includes("Count recipients"), message);
  }
});

describe("the cap on a clinic's messages per patient (migration 20260101018340)", () => {
  test("Compose shows the database's reason, the API's 429 reason, as a sentence", () => {
    const reason =
      "this patient already has 5 messages from your clinic created in the last hour, the most one patient may be given (5 per hour: MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR); nothing was created. Another can be created from 2026-12-07 01:10:00 UTC, or once one of them is cancelled";
    const text = errorMessage("patient_cap", undefined, reason);
    assert.match(text, /^Not sent: This patient already has 5 messages/);
    assert.match(text, /MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR/);
    assert.match(text, /cancel one of their pending messages/);
    // Without the reason (never expected): still says what the limit is and where it is set.
    assert.match(errorMessage("patient_cap"), /MEDREMIND_CLINIC_MESSAGES_PER_PATIENT_HOUR and _DAY/);
  });
  test("a group's report names how many were left out at the cap", () => {
    const report = groupReport({ scheduled: 3, skipped: [], unreachableLater: [], notConsented: [], capped: ["A", "B"], refusalMinutes: 15 });
    assert.match(report.capped, /^Not sent to 2 patients who already have as many messages from your clinic/);
    assert.equal(groupReport({ scheduled: 3, skipped: [], unreachableLater: [], notConsented: [], refusalMinutes: 15 }).capped, null);
    // Left out by the cap (or not consented) only: no paragraph about STOP and invite links.
    assert.equal(report.fix, null);
    assert.equal(groupReport({ scheduled: 1, skipped: [], unreachableLater: [], notConsented: ["I"], capped: ["A"], refusalMinutes: 15 }).fix, null);
    assert.match(groupReport({ scheduled: 1, skipped: [], unreachableLater: ["U"], notConsented: [], capped: ["A"], refusalMinutes: 15 }).fix, /once they reply START/);
  });
  test("the count before the send says how many of the group are at the cap", () => {
    assert.equal(
      groupCountText({ total: 2, unreachable: 0, capped: 1 }),
      "2 patients match. 1 of them already has as many messages from your clinic as one patient may be given in an hour or in 24 hours: that patient gets nothing, and is named after the send.",
    );
  });
});

describe("editedNotice", () => {
  const { editedNotice } = require("../.unit-build/errors.js");
  test("an edit at a time the patient's quiet hours hold says it waits, not that it goes then", () => {
    const held = editedNotice("quiet_held");
    assert.match(held, /^Changed, but this patient is inside their quiet hours/);
    assert.doesNotMatch(held, /at its time/);
    // The edit form has no Urgent box: the way to reach them at night is named.
    assert.match(held, /compose it again as Urgent/);
  });
  test("an urgent one says they get it at night; a plain edit, at its time", () => {
    assert.match(editedNotice("quiet_urgent"), /urgent, so they get it at night/);
    assert.match(editedNotice("1"), /^Changed: the message goes as it is now, at its time/);
  });
  test("anything else shows nothing", () => {
    for (const code of [undefined, "", "0", "quiet", ["1", "1"]]) assert.equal(editedNotice(code), null);
  });
});
