// Control characters in a submitted form (src/lib/control-characters.ts): a NUL failed the page.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { controlCode, controlField, hasControlCharacter, hasLineBreak } = require("../.unit-build/control-characters.js");
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
  assert.match(errorMessage(controlCode("message_content")), /^Message: it holds an invisible control character .*Remove it/);
  assert.match(errorMessage(controlCode("external_id")), /^External id: it holds an invisible control character or a line break/);
  assert.match(errorMessage(controlCode("location")), /^Location: /);
  assert.match(errorMessage(controlCode("no_such_field")), /^A field: /);
});

test("a one-line field (a name, a place) refuses line breaks, C1 controls and U+2028 too; RTL and emoji stay", () => {
  for (const text of ["Sunrise\nClinic", "crlf\r\n", "tab\there", "nel\u0085", "sep\u2028", "Ana\u0000"]) assert.ok(hasLineBreak(text), text);
  for (const text of ["Sunrise Clinic", "Zoë 🙂", "\u0639\u064a\u0627\u062f\u0629 \u200f", "👩\u200d⚕️ Dr"]) assert.ok(!hasLineBreak(text), text);
  const form = new FormData();
  form.set("message_content", "two\nlines");
  form.set("name", "Sunrise\nClinic");
  assert.equal(controlField(form, ["message_content", "name"]), "name");
  assert.match(errorMessage(controlCode("name")), /^Name: it holds an invisible control character or a line break .*one line/);
});
