import assert from "node:assert/strict";
import { instantFromParts } from "../base/time.ts";
import {
  instantToNtp64,
  ntp64Difference,
  ntp64FromParts,
  ntp64ToInstant,
  ntp64ToParts,
  ntpShortToSeconds,
  secondsToNtpShort,
} from "./timestamp.ts";
import { seededRandom } from "../../tests/helpers/random.ts";

/** 2036-02-07T06:28:16Z: NTP era 1 starts (Unix seconds). */
const ERA1_UNIX = 2_085_978_496n;

Deno.test("Unix epoch is NTP second 2208988800", () => {
  const ts = instantToNtp64(0n);
  assert.deepEqual(ntp64ToParts(ts), { seconds: 2_208_988_800, fraction: 0 });
});

Deno.test("half a second is fraction 2^31", () => {
  const ts = instantToNtp64(instantFromParts(1_700_000_000, 500_000_000));
  assert.equal(ntp64ToParts(ts).fraction, 0x8000_0000);
});

Deno.test("round trip is exact to the nanosecond over many instants and eras", () => {
  const rnd = seededRandom(7);
  for (let i = 0; i < 20_000; i++) {
    // Unix seconds from 1900 to 2200, any nanosecond.
    const seconds = BigInt(Math.floor(rnd() * 9.5e9)) - 2_208_988_800n;
    const t = seconds * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9));
    const pivot = t + BigInt(Math.floor((rnd() - 0.5) * 4e9)) * 1_000_000_000n;
    assert.equal(ntp64ToInstant(instantToNtp64(t), pivot), t);
  }
});

Deno.test("era wrap in 2036: timestamps on both sides resolve against a pivot", () => {
  const before = instantFromParts(ERA1_UNIX - 1n, 999_999_999);
  const at = instantFromParts(ERA1_UNIX, 0);
  assert.equal(ntp64ToParts(instantToNtp64(at)).seconds, 0);
  assert.equal(ntp64ToParts(instantToNtp64(before)).seconds, 0xffff_ffff);
  // Pivot just before the wrap, value just after (era 1) and vice versa.
  assert.equal(ntp64ToInstant(instantToNtp64(at), before), at);
  assert.equal(ntp64ToInstant(instantToNtp64(before), at), before);
  // A pivot in 2026 maps the raw seconds 0 into era 1, not to 1900.
  const pivot2026 = instantFromParts(1_790_000_000n);
  assert.equal(ntp64ToInstant(ntp64FromParts(0, 0), pivot2026), at);
  // A pivot in 1960 maps the same value to 1900.
  const pivot1960 = instantFromParts(-315_619_200n);
  assert.equal(ntp64ToInstant(ntp64FromParts(0, 0), pivot1960), instantFromParts(-2_208_988_800n));
});

Deno.test("difference of timestamps wraps across the era", () => {
  const a = instantToNtp64(instantFromParts(ERA1_UNIX - 1n, 500_000_000));
  const b = instantToNtp64(instantFromParts(ERA1_UNIX, 250_000_000));
  assert.ok(Math.abs(ntp64Difference(b, a) - 0.75) < 1e-9);
  assert.ok(Math.abs(ntp64Difference(a, b) + 0.75) < 1e-9);
});

Deno.test("16.16 short format: rounding, clamping, exact round trip", () => {
  assert.equal(secondsToNtpShort(1), 0x0001_0000);
  assert.equal(secondsToNtpShort(1.5), 0x0001_8000);
  assert.equal(secondsToNtpShort(-3), 0);
  assert.equal(secondsToNtpShort(Number.NaN), 0);
  assert.equal(secondsToNtpShort(1e9), 0xffff_ffff);
  assert.equal(ntpShortToSeconds(0x0000_8000), 0.5);
  const rnd = seededRandom(3);
  for (let i = 0; i < 10_000; i++) {
    const u = Math.floor(rnd() * 0x1_0000_0000);
    assert.equal(secondsToNtpShort(ntpShortToSeconds(u)), u);
  }
});
