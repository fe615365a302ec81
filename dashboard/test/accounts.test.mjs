// The provider account forms' fields (src/lib/account-fields.ts): what a submitted form sends to
// the web process. `npm test` compiles the TypeScript modules to .unit-build/ first.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { accountFields, isAccountChannel } = require("../.unit-build/account-fields.js");

function form(entries) {
  const data = new FormData();
  for (const [name, value] of Object.entries(entries)) data.append(name, value);
  return data;
}

describe("accountFields", () => {
  test("sends the channel's fields trimmed, leaves empty ones and strangers out", () => {
    const sent = accountFields(
      "sms",
      form({
        channel: "sms",
        account_sid: " AC123 ",
        from_number: "+14155550123",
        messaging_service_sid: "",
        auth_token: "secret",
        host: "not an sms field",
      }),
    );
    assert.deepEqual(sent, { account_sid: "AC123", from_number: "+14155550123", auth_token: "secret" });
  });

  test("an SMTP port goes as a number, anything else as typed", () => {
    assert.deepEqual(accountFields("email", form({ host: "smtp.test", port: "465", from_address: "a@b.test" })), {
      host: "smtp.test",
      port: 465,
      from_address: "a@b.test",
    });
    assert.equal(accountFields("email", form({ port: "4x" })).port, "4x");
  });

  test("a clinic's own Telegram bot sends only its token", () => {
    assert.deepEqual(accountFields("telegram", form({ token: " 123456:AAE-token ", bot_id: "999", username: "x" })), {
      token: "123456:AAE-token",
    });
  });

  test("only the four account channels", () => {
    assert.ok(isAccountChannel("whatsapp"));
    assert.ok(isAccountChannel("telegram"));
    assert.ok(!isAccountChannel("console"));
    assert.ok(!isAccountChannel(undefined));
  });
});
