// Unit tests of src/lib/compose.ts: which template version Compose previews (the same choice as
// the worker's pick_version in scheduler/custom_templates.py), whether a channel has a version,
// and the template name the form sends. `npm test` compiles the module to .unit-build/ first.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { composeRoute, pickVersion, templateChoices, templateChannelProblem, templateNameFromForm } = require(
  "../.unit-build/compose.js",
);

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

describe("composeRoute (the API's route_channels with fallback: what the worker would try)", () => {
  // An SMS-only patient who sent STOP: their only contact point is opted out, so not usable.
  const stopped = { channel_order: ["sms"], category_channel: null, usable_channels: [] };
  test("an SMS-only patient who sent STOP: nothing reaches them, on SMS or auto", () => {
    assert.deepEqual(composeRoute("sms", stopped), []);
    assert.deepEqual(composeRoute("auto", stopped), []);
  });
  test("every channel of the patient unusable: auto has nothing either", () => {
    const none = { channel_order: ["telegram", "sms"], category_channel: "telegram", usable_channels: [] };
    assert.deepEqual(composeRoute("auto", none), []);
    assert.deepEqual(composeRoute("whatsapp", none), []);
  });
  test("a chosen channel, then the channel order, each only if usable", () => {
    const reach = { channel_order: ["telegram", "sms"], category_channel: null, usable_channels: ["sms", "telegram"] };
    assert.deepEqual(composeRoute("sms", reach), ["sms", "telegram"]);
    assert.deepEqual(composeRoute("auto", reach), ["telegram", "sms"]);
    assert.deepEqual(composeRoute("whatsapp", reach), ["telegram", "sms"]);
  });
  test("auto starts with the category's channel; a usable channel outside the order is tried only when chosen", () => {
    const reach = { channel_order: ["sms"], category_channel: "telegram", usable_channels: ["email", "telegram"] };
    assert.deepEqual(composeRoute("auto", reach), ["telegram"]);
    assert.deepEqual(composeRoute("email", reach), ["email"]);
    assert.deepEqual(composeRoute("auto", { ...reach, category_channel: null }), []);
  });
});
