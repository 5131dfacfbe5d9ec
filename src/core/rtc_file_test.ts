import assert from "node:assert/strict";
import { parseRtcFile, serializeRtcFile } from "./rtc_file.ts";

Deno.test("rtcfile round trip in chrony's format", () => {
  const c = { valid: true, refTime: 1700000123, secondsFast: -0.2503457, gainRatePpm: 19.9876 };
  const text = serializeRtcFile(c);
  assert.equal(text, "1 1700000123 -0.250346 19.988\n");
  const r = parseRtcFile(text);
  assert.ok(r.ok);
  assert.deepEqual(r.coefficients, {
    valid: true,
    refTime: 1700000123,
    secondsFast: -0.250346,
    gainRatePpm: 19.988,
  });
});

Deno.test("rtcfile parse is tolerant and typed", () => {
  const spaced = parseRtcFile("  0\t1700000000   1.5 -3\n trailing words");
  assert.ok(spaced.ok && spaced.coefficients.valid === false);
  assert.deepEqual(parseRtcFile(""), { ok: false, error: { kind: "empty" } });
  assert.deepEqual(parseRtcFile("1 2 3"), { ok: false, error: { kind: "fields", found: 3 } });
  const bad = parseRtcFile("1 17000.5 0.1 2");
  assert.ok(!bad.ok && bad.error.kind === "number" && bad.error.field === "refTime");
  const junk = parseRtcFile("1 1700000000 abc 2");
  assert.ok(!junk.ok && junk.error.kind === "number" && junk.error.field === "secondsFast");
  for (const s of ["\u0000\u0001", "1 1 1 NaN", "1 1 1 Infinity", "-", "1e999 1 1 1"]) {
    assert.equal(parseRtcFile(s).ok, false, s);
  }
});
