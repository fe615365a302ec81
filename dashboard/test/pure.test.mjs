// Unit tests of the dashboard's pure modules (node's test runner): SMS segment counting,
// template placeholders, timezone wall-clock values and database URL parsing.
// `npm test` compiles the TypeScript modules to .unit-build/ first.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { connectionOptions, statementTimeoutMs } from "../src/lib/dburl.mjs";

const require = createRequire(import.meta.url);
const { smsCount } = require("../.unit-build/sms.js");
const { fillForPatient, fillTemplate, templateProblems, unknownPlaceholders } = require("../.unit-build/placeholders.js");
const { localInputValue, isLocalDateTime, formatInZone, tomorrowOnTheHour } = require("../.unit-build/time.js");

describe("smsCount", () => {
  const cases = [
    ["", "GSM-7", 0, 0],
    ["a".repeat(160), "GSM-7", 160, 1],
    ["a".repeat(161), "GSM-7", 161, 2],
    ["a".repeat(306), "GSM-7", 306, 2],
    ["a".repeat(307), "GSM-7", 307, 3],
    ["Café à 8 h", "GSM-7", 10, 1], // é and à are in the GSM basic table
    ["€".repeat(80), "GSM-7", 160, 1], // the euro sign is an escape: two septets
    ["{x}", "GSM-7", 5, 1],
    ["Take 💊", "UCS-2", 7, 1], // an emoji is two UTF-16 units
    ["ж".repeat(70), "UCS-2", 70, 1],
    ["ж".repeat(71), "UCS-2", 71, 2],
    ["ж".repeat(135), "UCS-2", 135, 3],
  ];
  for (const [text, encoding, units, segments] of cases) {
    test(`${JSON.stringify(text.slice(0, 12))} (${text.length})`, () => {
      assert.deepEqual(smsCount(text), { encoding, units, segments });
    });
  }
});

describe("compose to one patient", () => {
  test("fills the patient's and the clinic's names, as the group message does", () => {
    assert.equal(
      fillForPatient("Hello {{ patient_name }}, {{clinic_name}} here.", "Ana", "North Clinic"),
      "Hello Ana, North Clinic here.",
    );
  });
  test("names are filled in as written: no $& or backslash patterns, no second pass", () => {
    assert.equal(fillForPatient("Hi {{ patient_name }}", "Ana $& \\1 Co", "C"), "Hi Ana $& \\1 Co");
    assert.equal(fillForPatient("Hi {{ patient_name }}", "{{ clinic_name }}", "C"), "Hi {{ clinic_name }}");
  });
  test("a patient without a name gets an empty one", () => {
    assert.equal(fillForPatient("Hi {{ patient_name }}!", null, "C"), "Hi !");
  });
  test("other placeholders are reported once each, known ones are not", () => {
    assert.deepEqual(unknownPlaceholders("{{ medicine }} {{patient_name}} {{ medicine }} {{ dose_text }}"), ["medicine", "dose_text"]);
    assert.deepEqual(unknownPlaceholders("Hello {{ patient_name }} from {{ clinic_name }} {not one}"), []);
  });
});

describe("templates", () => {
  test("fills the known placeholders, spaced or not", () => {
    assert.equal(
      fillTemplate("Hi {{ patient_name }}, {{clinic_name}} here. {{ other }}", {
        patient_name: "Ana",
        clinic_name: "Clinic",
      }),
      "Hi Ana, Clinic here. {{ other }}",
    );
  });
  test("a valid template has no problems", () => {
    assert.deepEqual(templateProblems("Hello {{ patient_name }}, this is {{ clinic_name }}.", "default"), []);
  });
  test("unknown placeholders, logic and unclosed braces are refused", () => {
    assert.match(templateProblems("Hi {{ name }}", "default").join(" "), /Unknown placeholder \{\{ name \}\}/);
    assert.match(templateProblems("{% if x %}y{% endif %}", "default").join(" "), /no \{% %\}/);
    assert.match(templateProblems("Hi {{ patient_name", "default").join(" "), /not closed/);
    assert.match(templateProblems("   ", "sms").join(" "), /empty/);
  });
  test("length is checked with long names: SMS at most 3 segments", () => {
    assert.deepEqual(templateProblems("a".repeat(459), "sms"), []);
    assert.match(templateProblems("a".repeat(460), "sms").join(" "), /Too long for SMS: 4 segments/);
    assert.match(templateProblems("a".repeat(4097), "telegram").join(" "), /Too long: 4097/);
  });
  test("the SMS limit is the service's (MEDREMIND_SMS_MAX_SEGMENTS via service_limits)", () => {
    // 5 segments of 153 GSM-7 characters allowed: 4 fit; with 2, 3 do not.
    assert.deepEqual(templateProblems("a".repeat(612), "sms", 5), []);
    assert.match(templateProblems("a".repeat(766), "sms", 5).join(" "), /6 segments \(5 at most\)/);
    assert.match(templateProblems("a".repeat(307), "sms", 2).join(" "), /3 segments \(2 at most\)/);
    const fits = `{{ patient_name }}${"a".repeat(148)}`;
    assert.match(templateProblems(fits, "sms", 2).join(" "), /longest names: 3 segments \(2 at most\)/);
  });
  test("a name counts at its longest, in UCS-2 (one 'Ł' makes the whole SMS UCS-2)", () => {
    // 50 + 148 = 198 units: 3 segments of 66; one more letter makes 4.
    const fits = `{{ patient_name }}${"a".repeat(148)}`;
    assert.deepEqual(templateProblems(fits, "sms"), []);
    assert.match(templateProblems(`${fits}a`, "sms").join(" "), /Too long for SMS with the longest names: 4 segments/);
    // A default version is held to SMS too.
    assert.match(templateProblems(`${fits}a`, "default").join(" "), /Too long for SMS/);
  });
  test("WhatsApp texts are held to Twilio's 1,600 characters, as the worker's sender is", () => {
    assert.deepEqual(templateProblems("a".repeat(1600), "whatsapp"), []);
    assert.match(templateProblems("a".repeat(1601), "whatsapp").join(" "), /Too long: 1601 characters \(1600 at most\)/);
  });
});

describe("lengthProblem", () => {
  const { lengthProblem } = require("../.unit-build/sms.js");
  test("each channel's limit as the worker applies it", () => {
    assert.equal(lengthProblem("a".repeat(459), "sms"), null);
    assert.match(lengthProblem("a".repeat(460), "sms"), /4 segments \(3 at most\)/);
    assert.equal(lengthProblem("a".repeat(460), "sms", 4), null);
    assert.equal(lengthProblem("a".repeat(1600), "whatsapp"), null);
    assert.match(lengthProblem("a".repeat(1601), "whatsapp"), /1600 at most/);
    assert.equal(lengthProblem("a".repeat(4096), "telegram"), null);
    assert.match(lengthProblem("a".repeat(4097), "telegram"), /4096 at most/);
    assert.equal(lengthProblem("a".repeat(4096), "email"), null);
  });
});

describe("messageTooLong", () => {
  const { messageTooLong } = require("../.unit-build/sms.js");
  test("counts characters as the API does (code points), names the cut", () => {
    assert.equal(messageTooLong("a".repeat(4096)), null);
    // 4,096 emoji are 8,192 UTF-16 units: one character each for the API's 4,096.
    assert.equal(messageTooLong("\u{1F48A}".repeat(4096)), null);
    assert.equal(
      messageTooLong("a".repeat(5000)),
      "Message: 5,000 characters, longer than a message can be (4,096 at most). Shorten it by 904 characters, or send it as two messages.",
    );
  });
});

describe("time", () => {
  test("wall-clock value in a zone, across the spring DST change", () => {
    // Europe/Madrid jumps from 02:00 to 03:00 local on 2026-03-29 (01:00 UTC).
    assert.equal(localInputValue(new Date("2026-03-29T00:30:00Z"), "Europe/Madrid"), "2026-03-29T01:30");
    assert.equal(localInputValue(new Date("2026-03-29T01:30:00Z"), "Europe/Madrid"), "2026-03-29T03:30");
    assert.equal(localInputValue(new Date("2026-11-22T23:05:00Z"), "America/New_York"), "2026-11-22T18:05");
  });
  test("a new appointment starts tomorrow on the clinic's next whole hour, in office hours", () => {
    assert.equal(tomorrowOnTheHour(new Date("2026-12-04T08:47:00Z"), "Europe/Madrid"), "2026-12-05T10:00");
    assert.equal(tomorrowOnTheHour(new Date("2026-12-04T09:00:00Z"), "Europe/Madrid"), "2026-12-05T10:00");
    // Kolkata is UTC+05:30: 08:47 UTC is 14:17 there; rounded on its clock, not UTC's.
    assert.equal(tomorrowOnTheHour(new Date("2026-12-04T08:47:00Z"), "Asia/Kolkata"), "2026-12-05T15:00");
    // Late at night: tomorrow morning at 09:00 (it offered 00:00 the day after tomorrow), across
    // the end of a month and year; before the clinic opens, 09:00 tomorrow too (it offered 03:00).
    assert.equal(tomorrowOnTheHour(new Date("2026-12-30T23:30:00Z"), "UTC"), "2026-12-31T09:00");
    assert.equal(tomorrowOnTheHour(new Date("2026-12-31T18:20:00Z"), "Asia/Kathmandu"), "2027-01-02T09:00");
    assert.equal(tomorrowOnTheHour(new Date("2026-12-04T16:59:00Z"), "UTC"), "2026-12-05T17:00");
    assert.equal(tomorrowOnTheHour(new Date("2026-12-04T17:01:00Z"), "UTC"), "2026-12-05T09:00");
    // The night before the clocks go forward (Berlin skips 02:00-03:00 on 28 March 2027): at
    // 01:30 it offered 02:00, a time that does not exist, which the form itself then refused.
    assert.equal(tomorrowOnTheHour(new Date("2027-03-27T00:30:00Z"), "Europe/Berlin"), "2027-03-28T09:00");
  });
  test("datetime-local values are recognised", () => {
    assert.ok(isLocalDateTime("2026-11-22T08:00"));
    // The API's years: year 9999's appointment ended in year 10000, which the page could not read.
    assert.ok(!isLocalDateTime("9999-12-31T23:59"));
    assert.ok(isLocalDateTime("9998-12-31T23:59"));
    assert.ok(!isLocalDateTime("1969-12-31T23:59"));
    assert.ok(!isLocalDateTime("2026-11-22 08:00'; drop table x"));
  });
  test("only real calendar days and times of day (the SQL cast would raise on the others)", () => {
    for (const value of ["2028-02-29T00:00", "2026-12-31T23:59", "2026-01-01T00:00:59", "1970-01-01T00:00"]) {
      assert.ok(isLocalDateTime(value), value);
    }
    for (const value of ["2026-02-29T10:00", "2026-04-31T10:00", "2026-13-01T10:00", "2026-00-10T10:00",
      "2026-11-22T24:00", "2026-11-22T10:60", "2026-11-22T10:00:60", "0000-01-01T00:00", "0001-01-01T00:00", "2026-11-00T10:00"]) {
      assert.ok(!isLocalDateTime(value), value);
    }
  });
  test("null formats as a dash", () => {
    assert.equal(formatInZone(null, "UTC"), "—");
  });
  test("a wall time the clocks show twice names its zone, so the two can be told apart", () => {
    // New York falls back at 02:00 EDT on 1 November 2026: 01:00-01:59 happens twice.
    const cases = [
      ["2026-11-01T04:59:00Z", "America/New_York", "1 Nov 2026, 00:59"],
      ["2026-11-01T05:00:00Z", "America/New_York", "1 Nov 2026, 01:00 EDT"],
      ["2026-11-01T05:30:00Z", "America/New_York", "1 Nov 2026, 01:30 EDT"],
      ["2026-11-01T06:30:00Z", "America/New_York", "1 Nov 2026, 01:30 EST"],
      ["2026-11-01T06:59:00Z", "America/New_York", "1 Nov 2026, 01:59 EST"],
      ["2026-11-01T07:00:00Z", "America/New_York", "1 Nov 2026, 02:00"],
      // Berlin on 25 October 2026: 02:00-02:59 twice.
      ["2026-10-25T00:30:00Z", "Europe/Berlin", "25 Oct 2026, 02:30 CEST"],
      ["2026-10-25T01:30:00Z", "Europe/Berlin", "25 Oct 2026, 02:30 CET"],
      // Lord Howe Island falls back half an hour (02:00 -> 01:30 on 5 April 2026): no English
      // abbreviation, so the offset.
      ["2026-04-04T14:45:00Z", "Australia/Lord_Howe", "5 Apr 2026, 01:45 GMT+11"],
      ["2026-04-04T15:15:00Z", "Australia/Lord_Howe", "5 Apr 2026, 01:45 GMT+10:30"],
      // The night clocks spring forward repeats nothing; nor does a zone without changes.
      ["2026-03-08T07:30:00Z", "America/New_York", "8 Mar 2026, 03:30"],
      ["2026-11-01T05:30:00Z", "UTC", "1 Nov 2026, 05:30"],
      ["2026-11-01T05:30:00Z", "Asia/Kolkata", "1 Nov 2026, 11:00"],
    ];
    for (const [iso, zone, shown] of cases) {
      assert.equal(formatInZone(iso, zone), shown, `${iso} in ${zone}`);
    }
  });
});

describe("connectionOptions", () => {
  test("libpq's Unix-socket form", () => {
    const o = connectionOptions("postgresql://postgres:@/medremind?host=/tmp/pg");
    assert.equal(o.path, "/tmp/pg/.s.PGSQL.5432");
    assert.equal(o.database, "medremind");
    assert.equal(o.user, "postgres");
    assert.equal(o.password, "");
  });
  test("Supabase's transaction pooler disables prepared statements; sslmode maps to ssl", () => {
    const o = connectionOptions("postgres://u.ref:p%40ss@aws-0.pooler.example:6543/postgres?sslmode=require");
    assert.deepEqual(
      [o.host, o.port, o.user, o.password, o.prepare, o.ssl],
      ["aws-0.pooler.example", 6543, "u.ref", "p@ss", false, "require"],
    );
    assert.equal(connectionOptions("postgres://u@h/db?pgbouncer=true").prepare, false);
    assert.equal(connectionOptions("postgres://u@h:5432/db").prepare, true);
  });
  test("IPv6 host with a port", () => {
    const o = connectionOptions("postgresql://u@[::1]:5433/x");
    assert.deepEqual([o.host, o.port, o.path], ["::1", 5433, undefined]);
  });
  test("anything but a postgres URL is refused", () => {
    assert.throws(() => connectionOptions("mysql://u@h/db"), /not a postgres/);
  });
});

describe("supabasePasswordUserId", () => {
  const { supabasePasswordUserId } = require("../.unit-build/supabase-auth.js");
  const userId = "6f1c2d4e-0000-4000-8000-000000000001";
  // A loopback stand-in for GoTrue's password grant.
  async function withGoTrue(run) {
    const { createServer } = await import("node:http");
    const seen = [];
    const server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        seen.push({ url: req.url, apikey: req.headers.apikey, body: JSON.parse(raw) });
        const { password } = JSON.parse(raw);
        if (password === "boom") {
          res.writeHead(503).end();
        } else if (password === "right") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ access_token: "x", user: { id: userId } }));
        } else {
          res.writeHead(400, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "invalid_grant" }));
        }
      });
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      await run(`http://127.0.0.1:${server.address().port}/`, seen);
    } finally {
      server.close();
    }
  }
  test("a correct password gives the user id; the anon key and grant are sent", async () => {
    await withGoTrue(async (url, seen) => {
      assert.equal(await supabasePasswordUserId(url, "anon-key", "a@b.c", "right"), userId);
      assert.deepEqual(seen[0], {
        url: "/auth/v1/token?grant_type=password",
        apikey: "anon-key",
        body: { email: "a@b.c", password: "right" },
      });
    });
  });
  test("a wrong password gives null; a server error throws", async () => {
    await withGoTrue(async (url) => {
      assert.equal(await supabasePasswordUserId(url, "k", "a@b.c", "wrong"), null);
      await assert.rejects(supabasePasswordUserId(url, "k", "a@b.c", "boom"), /answered 503/);
    });
  });
});

describe("canonicalTimezone", () => {
  const { canonicalTimezone } = require("../.unit-build/time.js");
  test("stores the canonical IANA name, whatever the case typed", () => {
    assert.equal(canonicalTimezone("europe/madrid"), "Europe/Madrid");
    assert.equal(canonicalTimezone(" America/Mexico_City "), "America/Mexico_City");
    assert.equal(canonicalTimezone("utc"), "UTC");
    assert.equal(canonicalTimezone("Etc/GMT+3"), "Etc/GMT+3");
  });
  test("keeps the IANA name of a zone IANA renamed and ICU did not", () => {
    // Typed "Asia/Kolkata", the patient page and the bot's /settings read "Asia/Calcutta".
    assert.equal(canonicalTimezone("Asia/Kolkata"), "Asia/Kolkata");
    assert.equal(canonicalTimezone("europe/kyiv"), "Europe/Kyiv");
    assert.equal(canonicalTimezone("America/Argentina/Buenos_Aires"), "America/Argentina/Buenos_Aires");
    assert.equal(canonicalTimezone("Asia/Ho_Chi_Minh"), "Asia/Ho_Chi_Minh");
    // The old name typed becomes the current one, as the API stores it (test/zone-names.test.mjs).
    assert.equal(canonicalTimezone("Asia/Calcutta"), "Asia/Kolkata");
    assert.equal(canonicalTimezone("US/Eastern"), "America/New_York");
  });
  test("refuses what is not a named zone", () => {
    for (const zone of ["", "  ", "+03:00", "-05:00", "Foo/Bar", "Europe/Nowhere", "GMT+3:00"]) {
      assert.equal(canonicalTimezone(zone), null, zone);
    }
  });
});

describe("skippedByClockChange (a wall time the clocks skip when summer time begins)", () => {
  const { skippedByClockChange } = require("../.unit-build/time.js");
  const cases = [
    // value, zone, skipped: the hour of the spring change, its edges, the autumn's repeated hour
    ["2027-03-14T02:30", "America/Los_Angeles", true],
    ["2027-03-14T02:00", "America/Los_Angeles", true],
    ["2027-03-14T01:59", "America/Los_Angeles", false],
    ["2027-03-14T03:00", "America/Los_Angeles", false],
    ["2027-11-07T01:30", "America/Los_Angeles", false], // happens twice: it exists
    ["2027-03-28T02:15", "Europe/Madrid", true],
    ["2027-03-28T02:15", "Europe/London", false], // London skips 01:00-02:00
    ["2027-03-28T01:15", "Europe/London", true],
    ["2027-10-03T02:15", "Australia/Lord_Howe", true], // a half-hour change
    ["2027-10-03T02:45", "Australia/Lord_Howe", false],
    ["2027-03-14T02:30", "Asia/Kolkata", false],
    ["2027-03-14T02:30", "UTC", false],
    ["2027-03-14T02:30:00", "America/Los_Angeles", true], // with seconds
  ];
  for (const [value, zone, skipped] of cases) {
    test(`${value} in ${zone}: ${skipped ? "skipped" : "exists"}`, () => {
      assert.equal(skippedByClockChange(value, zone), skipped);
    });
  }
});

describe("isClockTime", () => {
  const { isClockTime } = require("../.unit-build/time.js");
  test("times of day 00:00 to 23:59", () => {
    for (const value of ["00:00", "08:30", "21:00", "23:59"]) assert.ok(isClockTime(value), value);
  });
  test("refuses 24:00, which Postgres stores but Python (asyncpg) cannot read back", () => {
    for (const value of ["24:00", "24:30", "23:60", "99:99", "8:00", "08:00:00", ""]) {
      assert.ok(!isClockTime(value), value);
    }
  });
});

describe("quietWindowOfNoLength", () => {
  const { quietWindowOfNoLength } = require("../.unit-build/time.js");
  test("a start equal to its end is refused, but 00:00 to 00:00 (no quiet hours)", () => {
    assert.ok(quietWindowOfNoLength("22:00", "22:00"));
    assert.ok(quietWindowOfNoLength("07:30", "07:30"));
    assert.ok(!quietWindowOfNoLength("00:00", "00:00"));
    assert.ok(!quietWindowOfNoLength("22:00", "07:00"));
    assert.ok(!quietWindowOfNoLength("07:00", "22:00"));
  });
});

describe("canonicalAddress", () => {
  const { canonicalAddress } = require("../.unit-build/contact.js");
  test("phone numbers are stored as the E.164 Twilio puts in From", () => {
    // The UK trunk 0 typed after the country code: Twilio sends from +447911123456, so an
    // address stored as typed would never match the patient's replies (STOP, answers).
    assert.equal(canonicalAddress("sms", "+4407911123456"), "+447911123456");
    assert.equal(canonicalAddress("whatsapp", "+330612345678"), "+33612345678");
    assert.equal(canonicalAddress("sms", " +34 600 123 456 "), "+34600123456");
    assert.equal(canonicalAddress("sms", "+14155550123"), "+14155550123");
    assert.equal(canonicalAddress("whatsapp", "+5491123456789"), "+5491123456789");
  });
  test("refuses numbers the senders refuse (not valid for their country, or no country code)", () => {
    for (const number of ["+15555550123", "+1234567", "+340600123456", "+99912345678", "600123456", ""]) {
      assert.equal(canonicalAddress("sms", number), null, number);
      assert.equal(canonicalAddress("whatsapp", number), null, number);
    }
  });
  test("Telegram chat ids as the bot spells them (str of the integer)", () => {
    assert.equal(canonicalAddress("telegram", "123456789"), "123456789");
    assert.equal(canonicalAddress("telegram", "00123456789"), "123456789");
    assert.equal(canonicalAddress("telegram", "-1001234567890"), "-1001234567890");
    assert.equal(canonicalAddress("telegram", "-00987"), "-987");
  });
  test("refuses what is no Telegram chat", () => {
    for (const id of ["0", "-0", "000", "99999999999999999999", "12a", "+123", ""]) {
      assert.equal(canonicalAddress("telegram", id), null, id);
    }
  });
  test("e-mail addresses trimmed, in lower case", () => {
    assert.equal(canonicalAddress("email", " ana@example.org "), "ana@example.org");
    // One mailbox whatever its case, as the database stores it (migration 20260101018040).
    assert.equal(canonicalAddress("email", "Ana.Lopez@Example.ORG"), "ana.lopez@example.org");
    assert.equal(canonicalAddress("email", "ana@example"), null);
    assert.equal(canonicalAddress("email", `${"a".repeat(250)}@example.org`), null);
    assert.equal(canonicalAddress("console", "x"), null);
  });
});

describe("statementTimeoutMs (DASHBOARD_STATEMENT_TIMEOUT_SECONDS)", () => {
  test("unset or empty: 30 s, so a page never waits on a locked table for ever", () => {
    assert.equal(statementTimeoutMs(undefined), 30_000);
    assert.equal(statementTimeoutMs(""), 30_000);
    assert.equal(statementTimeoutMs(" 5 "), 5_000);
    assert.equal(statementTimeoutMs("3600"), 3_600_000);
  });
  test("anything but whole seconds from 1 to 3600 stops with the variable's name", () => {
    for (const bad of ["0", "-1", "1.5", "3601", "30s", "abc", "1e3"]) {
      assert.throws(() => statementTimeoutMs(bad), /DASHBOARD_STATEMENT_TIMEOUT_SECONDS.*whole number of seconds from 1 to 3600/, bad);
    }
  });
});
