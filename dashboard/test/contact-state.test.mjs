// Why a contact point receives nothing (src/lib/contact-state.ts): the patient page's words for a
// blocked or opted-out channel, and the channel reminders go by meanwhile.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { contactStop, reminderChannel } = require("../.unit-build/contact-state.js");

const AT = "2026-12-03T08:00:05+00:00";

function contact(channel, extra = {}) {
  return { channel, active: true, blocked_at: null, opted_out_at: null, last_error: null, ...extra };
}

describe("contactStop", () => {
  test("a usable contact point is not stopped", () => {
    assert.equal(contactStop(contact("telegram")), null);
  });

  test("Telegram's refusals in words, lifted when the patient writes again", () => {
    const cases = [
      ["telegram: Forbidden: bot was blocked by the user", "the patient blocked the bot on Telegram"],
      ["telegram: Chat not found", "Telegram does not know this chat (chat not found)"],
      ["telegram: Forbidden: user is deactivated", "the patient's Telegram account was deleted"],
      ["telegram: something new", "the provider refused it for good: telegram: something new"],
    ];
    for (const [error, why] of cases) {
      const stop = contactStop(contact("telegram", { active: false, blocked_at: AT, last_error: error }));
      assert.equal(stop.state, "blocked");
      assert.equal(stop.since, AT);
      assert.ok(stop.why.startsWith(why), stop.why);
      assert.equal(stop.until, "until the patient writes to the bot again");
    }
  });

  test("STOP: sent to the bot, or to the carrier (Twilio 21610); lasts until START", () => {
    const keyword = contactStop(contact("sms", { opted_out_at: AT }));
    assert.deepEqual(keyword, { state: "opted out", since: AT, why: "the patient sent STOP", until: "until the patient sends START" });
    const carrier = contactStop(
      contact("sms", { opted_out_at: AT, last_error: "sms: recipient opted out (replied STOP) (Twilio 21610)" }),
    );
    assert.equal(carrier.why, "the number replied STOP to the carrier (Twilio 21610)");
  });

  test("an opt-out outranks a block (START is what lifts it)", () => {
    const both = contactStop(contact("whatsapp", { blocked_at: AT, opted_out_at: AT }));
    assert.equal(both.state, "opted out");
  });
});

describe("reminderChannel", () => {
  const blockedTelegram = contact("telegram", { active: false, blocked_at: AT, last_error: "bot was blocked by the user" });

  test("the first usable channel of the patient's order", () => {
    assert.equal(reminderChannel(["telegram", "sms"], [blockedTelegram, contact("sms")]), "sms");
    assert.equal(reminderChannel(["telegram", "sms"], [contact("telegram"), contact("sms")]), "telegram");
  });

  test("the patient's channel for medication messages first, when usable", () => {
    assert.equal(reminderChannel(["telegram", "sms"], [contact("telegram"), contact("sms")], "sms"), "sms");
    assert.equal(reminderChannel(["sms", "email"], [blockedTelegram, contact("sms")], "telegram"), "sms");
  });

  test("none: a channel outside the order is not used, nor an inactive one", () => {
    assert.equal(reminderChannel(["telegram"], [blockedTelegram, contact("email")]), null);
    assert.equal(reminderChannel(["sms"], [contact("sms", { active: false })]), null);
  });
});
