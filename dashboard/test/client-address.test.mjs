// The sign-in throttle's client key (src/lib/client-address.ts): the address the proxy appended,
// not one the client chose; an IPv6 client as its /64 and an IPv4-mapped one as its IPv4 address,
// as the Python web process counts them (medremind/web/failure_limiter.py client_of).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";

const require = createRequire(import.meta.url);
const { clientKey, clientOf, parseTrustedProxies } = require("../.unit-build/client-address.js");

describe("clientKey", () => {
  test("the entry the proxy appended, not the ones the client sent", () => {
    assert.equal(clientKey("1.2.3.4, 203.0.113.9"), "203.0.113.9");
    assert.equal(clientKey("forged-1, forged-2,203.0.113.9"), "203.0.113.9");
    assert.equal(clientKey("203.0.113.9"), "203.0.113.9");
  });

  test("no header, or an empty one: the direct client", () => {
    assert.equal(clientKey(null), "direct");
    assert.equal(clientKey(""), "direct");
    assert.equal(clientKey(" , "), "direct");
  });

  test("addresses of one /64 are one client, whatever the client writes before them", () => {
    const keys = new Set(
      ["2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:DB8:1:2:a:b:c:d", "[2001:db8:1:2::9]:443"].map(
        (address, i) => clientKey(`2001:db8:ffff:${i}::1, ${address}`),
      ),
    );
    assert.deepEqual([...keys], ["2001:db8:1:2::/64"]);
    assert.notEqual(clientKey("2001:db8:1:3::1"), clientKey("2001:db8:1:2::1"));
  });

  test("an IPv4 client is one client, IPv4-mapped or with a port", () => {
    for (const written of ["203.0.113.9", "::ffff:203.0.113.9", "::FFFF:cb00:7109", "[::ffff:203.0.113.9]:80", "203.0.113.9:51234"]) {
      assert.equal(clientKey(written), "203.0.113.9", written);
    }
    assert.equal(clientKey("203.0.113.10"), "203.0.113.10");
  });

  test("proxies of DASHBOARD_TRUSTED_PROXIES are skipped from the right, a forged entry is not", () => {
    const trusted = parseTrustedProxies(" 10.0.0.0/8, 2001:db8:ffff::/48 ,192.0.2.7");
    assert.equal(clientKey("198.51.100.1, 203.0.113.9, 10.1.2.3", trusted), "203.0.113.9");
    assert.equal(clientKey("203.0.113.9, 2001:db8:ffff:1::5, ::ffff:192.0.2.7", trusted), "203.0.113.9");
    // A client that reached the inner proxy directly is the entry it appended, not its own ones.
    assert.equal(clientKey("10.9.9.9, 198.51.100.1", trusted), "198.51.100.1");
    // Only trusted proxies: the first of them (a request from inside the network).
    assert.equal(clientKey("10.0.0.1, 10.0.0.2", trusted), "10.0.0.1");
    assert.equal(clientKey("10.1.2.3", []), "10.1.2.3");
  });
});

describe("clientOf", () => {
  // The same answers as Python's client_of on these (checked by hand against s33-h1).
  const cases = [
    ["::1", "::/64"],
    ["fe80::1%eth0", "fe80::/64"],
    ["2001:db8::", "2001:db8::/64"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4::/64"],
    ["0:0:0:1:ffff:0:0:0", "0:0:0:1::/64"],
    ["64:ff9b::198.51.100.1", "64:ff9b::/64"],
    ["::ffff:0.0.0.0", "0.0.0.0"],
    ["unknown", "unknown"],
    ["1.2.3.256", "1.2.3.256"],
    ["010.1.2.3", "010.1.2.3"],
    ["1::2::3", "1::2::3"],
    ["1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"],
    ["x".repeat(100), "x".repeat(64)],
  ];
  for (const [entry, client] of cases) {
    test(`${entry.slice(0, 20)} is ${client.slice(0, 20)}`, () => assert.equal(clientOf(entry), client));
  }
});

describe("parseTrustedProxies", () => {
  test("unset or empty: none", () => {
    assert.deepEqual(parseTrustedProxies(undefined), []);
    assert.deepEqual(parseTrustedProxies(" "), []);
  });

  test("an entry that is no address or network is refused, naming the variable and the entry", () => {
    for (const bad of ["10.0.0.0/33", "*", "10.0.0.0/", "2001:db8::/129", "10.0.0.0/8/8", "proxy.internal"]) {
      assert.throws(() => parseTrustedProxies(`127.0.0.1, ${bad}`), (error) => {
        assert.match(error.message, /^DASHBOARD_TRUSTED_PROXIES: /);
        assert.ok(error.message.includes(`"${bad}"`), error.message);
        return true;
      });
    }
  });
});
