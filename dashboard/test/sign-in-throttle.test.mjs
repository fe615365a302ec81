// The sign-in throttle's client key (src/lib/sign-in-throttle.ts): the address the proxy appended,
// not one the client chose.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { clientAddress } = require("../.unit-build/sign-in-throttle.js");

describe("clientAddress", () => {
  test("the entry the proxy appended, not the ones the client sent", () => {
    assert.equal(clientAddress("1.2.3.4, 203.0.113.9"), "203.0.113.9");
    assert.equal(clientAddress("forged-1, forged-2,203.0.113.9"), "203.0.113.9");
    assert.equal(clientAddress("203.0.113.9"), "203.0.113.9");
  });

  test("no header, or an empty one: the direct client", () => {
    assert.equal(clientAddress(null), "direct");
    assert.equal(clientAddress(""), "direct");
    assert.equal(clientAddress(" , "), "direct");
  });
});
