import assert from "node:assert/strict";
import {
  cookKernelTimestamp,
  cookRealtimeAfter,
  MAX_KERNEL_TS_AGE_NS,
  singleClockScale,
  type TimeScale,
} from "./kernel_timestamps.ts";

const REAL = 1_763_900_000_000_000_000n;
/** A raw scale 5 s ahead of CLOCK_REALTIME (the null driver after a virtual step). */
const RAW = REAL + 5_000_000_000n;
const now = { realtime: REAL, raw: RAW };
/** Cooked = raw + 2 ms - 1000 ppm of the raw time since RAW - 1 s (a slew in progress). */
const slewing: TimeScale = {
  rawNow: () => RAW,
  cook: (raw) => raw + 2_000_000n - (raw - (RAW - 1_000_000_000n)) / 1000n,
};

Deno.test("kernel timestamp: cooked at its own instant on the raw scale", () => {
  const age = 250_000n;
  const got = cookKernelTimestamp(REAL - age, now, slewing);
  assert.equal(got.kernel, true);
  assert.equal(got.time, slewing.cook(RAW - age));
  // Not cooked-now-minus-age: the slew over the age (250 ns here) is accounted for.
  assert.equal(slewing.cook(RAW) - age - got.time, -250n);
});

Deno.test("kernel timestamp: the age bounds are inclusive, 0 and 1 s", () => {
  assert.equal(cookKernelTimestamp(REAL, now, slewing).time, slewing.cook(RAW));
  assert.equal(cookKernelTimestamp(REAL, now, slewing).kernel, true);
  const oldest = cookKernelTimestamp(REAL - MAX_KERNEL_TS_AGE_NS, now, slewing);
  assert.deepEqual(oldest, { time: slewing.cook(RAW - MAX_KERNEL_TS_AGE_NS), kernel: true });
});

Deno.test("kernel timestamp: future, too old or missing falls back to the time of reading", () => {
  for (const k of [REAL + 1n, REAL - MAX_KERNEL_TS_AGE_NS - 1n, REAL - 3600_000_000_000n, null]) {
    assert.deepEqual(cookKernelTimestamp(k, now, slewing), {
      time: slewing.cook(RAW),
      kernel: false,
    });
  }
});

Deno.test("kernel timestamp: a single clock moves the timestamp back by its age", () => {
  let t = 42_000_000_000n;
  const scale = singleClockScale(() => t);
  assert.equal(scale.cook(7n), 7n);
  assert.equal(scale.rawNow(), t);
  t += 1n;
  const got = cookKernelTimestamp(REAL - 10_000n, { realtime: REAL, raw: scale.rawNow() }, scale);
  assert.deepEqual(got, { time: t - 10_000n, kernel: true });
});

Deno.test("kernel timestamp: fuzz, the result is never later than cooked now", () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 2000; i++) {
    const k = REAL + BigInt(Math.round((rand() - 0.7) * 3e9));
    const got = cookKernelTimestamp(k, now, slewing);
    assert.ok(got.time <= slewing.cook(RAW));
    assert.equal(got.kernel, k <= REAL && REAL - k <= MAX_KERNEL_TS_AGE_NS);
  }
});

Deno.test("a CLOCK_REALTIME reading after the pair is cooked like a kernel timestamp", () => {
  const later = cookRealtimeAfter(REAL + 40_000n, now, slewing);
  assert.equal(later, slewing.cook(RAW + 40_000n));
  assert.equal(cookRealtimeAfter(REAL, now, slewing), slewing.cook(RAW));
  assert.equal(cookRealtimeAfter(REAL - 1n, now, slewing), null, "before the pair: a step");
  assert.equal(cookRealtimeAfter(REAL + MAX_KERNEL_TS_AGE_NS + 1n, now, slewing), null);
});
