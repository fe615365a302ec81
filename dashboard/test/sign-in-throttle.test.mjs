// The sign-in throttle's bookkeeping (src/lib/sign-in-throttle.ts): a flood of other keys does not
// reset a victim's count, and the client is the address the proxy appended, not one it chose.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { FailureWindow, clientAddress, MAX_FAILURES, WINDOW_MS } = require("../.unit-build/sign-in-throttle.js");

describe("FailureWindow", () => {
  test("an address is refused after its failures, until the window passes", () => {
    const window = new FailureWindow();
    for (let i = 0; i < MAX_FAILURES; i++) {
      assert.equal(window.isThrottled(["email:dr@clinic.test"], 1000 + i), false);
      window.recordFailure(["email:dr@clinic.test"], 1000 + i);
    }
    assert.equal(window.isThrottled(["email:dr@clinic.test"], 2000), true);
    assert.equal(window.isThrottled(["email:dr@clinic.test"], 1000 + MAX_FAILURES + WINDOW_MS), false);
  });

  test("failing with many other keys does not reset a victim's count", () => {
    const window = new FailureWindow(1000);
    for (let i = 0; i < MAX_FAILURES - 1; i++) window.recordFailure(["email:victim@clinic.test"], i);
    // 1,500 other keys fail, the victim's tenth failure among them: past the bound only the keys
    // that failed longest ago go. (Before, every key was cleared past the bound, the victim's too.)
    for (let i = 0; i < 1500; i++) {
      if (i === 600) window.recordFailure(["email:victim@clinic.test"], 100 + i);
      window.recordFailure([`email:other${i}@x.test`], 100 + i);
    }
    assert.equal(window.isThrottled(["email:victim@clinic.test"], 2000), true);
    assert.equal(window.size, 1000);
    assert.equal(window.isThrottled(["email:other0@x.test"], 2000), false);
  });

  test("the keys whose window passed go first when full", () => {
    const window = new FailureWindow(3);
    window.recordFailure(["old"], 0);
    window.recordFailure(["a", "b"], WINDOW_MS + 1);
    window.recordFailure(["c"], WINDOW_MS + 2);
    assert.equal(window.size, 3);
    assert.equal(window.isThrottled(["a"], WINDOW_MS + 3), false);
  });

  test("a successful sign-in clears the address", () => {
    const window = new FailureWindow();
    for (let i = 0; i < MAX_FAILURES; i++) window.recordFailure(["email:a@b.test"], i);
    window.clear(["email:a@b.test"]);
    assert.equal(window.isThrottled(["email:a@b.test"], MAX_FAILURES), false);
  });
});

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
