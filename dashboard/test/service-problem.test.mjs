// Unit tests of src/lib/service-problem.ts: what the dashboard says when the MedRemind API gives
// no usable answer to a template check or a preview. `npm test` compiles it to .unit-build/ first.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { serviceProblem } = require("../.unit-build/service-problem.js");

describe("serviceProblem", () => {
  test("no answer at all: did not answer, worth trying again", () => {
    assert.deepEqual(serviceProblem(null), { reason: "the MedRemind service did not answer", retry: true });
  });
  test("a refused key is named, with who fixes it, and no 'try again'", () => {
    for (const status of [401, 403]) {
      const { reason, retry } = serviceProblem(status);
      assert.match(reason, /refused the dashboard's API key \(MEDREMIND_API_KEY .*medremind apikey create/);
      assert.doesNotMatch(reason, /did not answer/);
      assert.equal(retry, false);
    }
  });
  test("busy and other errors say so, with the status", () => {
    assert.match(serviceProblem(429).reason, /busy/);
    assert.equal(serviceProblem(500).reason, "the MedRemind service answered with an error (HTTP 500)");
  });
});
