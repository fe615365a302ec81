// Where sign-in returns to (src/lib/return-path.ts): a page of this site, never another origin.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { returnPath, signInPath } = require("../.unit-build/return-path.js");

describe("returnPath", () => {
  test("a page of the dashboard, with its query, is kept", () => {
    assert.equal(returnPath("/patients/0b8e0f0e-1d3c-4a57-9d1e-2f6b9b1c1a11"), "/patients/0b8e0f0e-1d3c-4a57-9d1e-2f6b9b1c1a11");
    assert.equal(returnPath("/messages?status=failed"), "/messages?status=failed");
  });

  for (const value of [
    "https://evil.example/",
    "//evil.example/patients",
    "/\\evil.example",
    "/\tevil",
    "javascript:alert(1)",
    "patients",
    "",
    "/",
    "/login",
    "/login?next=/patients",
    `/${"a".repeat(2001)}`,
    ["/patients"],
    undefined,
  ]) {
    test(`${JSON.stringify(value)?.slice(0, 40)} goes to the patient list`, () => {
      assert.equal(returnPath(value), "/patients");
    });
  }
});

describe("signInPath", () => {
  test("carries the page asked for", () => {
    assert.equal(signInPath("/messages?status=failed"), "/login?next=%2Fmessages%3Fstatus%3Dfailed");
  });
  test("no next for the home page, nothing known, or another origin", () => {
    assert.equal(signInPath("/patients"), "/login");
    assert.equal(signInPath(null), "/login");
    assert.equal(signInPath("//evil.example"), "/login");
  });
});
