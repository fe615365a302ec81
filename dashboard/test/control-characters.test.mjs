// Control characters in a submitted form (src/lib/control-characters.ts): a NUL failed the page.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { controlCode, controlField, hasControlCharacter } = require("../.unit-build/control-characters.js");
const { errorMessage } = require("../.unit-build/errors.js");

test("NUL, the other C0 controls and DEL are control characters; tab and line breaks are text", () => {
  for (const text of ["Ana\u0000", "\u0007bell", "a\u001bb", "del\u007f", "form\u000cfeed"]) assert.ok(hasControlCharacter(text), text);
  for (const text of ["Ana", "two\nlines", "crlf\r\n", "tab\there", "Zoë 🙂", "\u202eRTL"]) assert.ok(!hasControlCharacter(text), text);
});

test("the first field holding one is named, in the order given", () => {
  const form = new FormData();
  form.set("display_name", "Ana");
  form.set("external_id", "AB\u0000C");
  form.set("address", "\u0001");
  assert.equal(controlField(form, ["display_name", "external_id", "address"]), "external_id");
  assert.equal(controlField(form, ["display_name", "missing"]), null);
});

test("the refusal names the field by its label and says what to do", () => {
  assert.match(errorMessage(controlCode("external_id")), /^External id: it holds an invisible control character .*Remove it/);
  assert.match(errorMessage(controlCode("location")), /^Location: /);
  assert.match(errorMessage(controlCode("no_such_field")), /^A field: /);
});
