import assert from "node:assert/strict";
import type { TimeSource } from "./kernel_ops.ts";
import { NullClockDriver } from "./null.ts";

class FakeTime implements TimeSource {
  real = 1_800_000_000_000_000_000n;
  mono = 5_000_000_000n;
  realtime(): bigint {
    return this.real;
  }
  monotonic(): bigint {
    return this.mono;
  }
  advance(seconds: number): void {
    const ns = BigInt(Math.round(seconds * 1e9));
    this.real += ns;
    this.mono += ns;
  }
}

Deno.test("NullClockDriver integrates the virtual frequency over monotonic time", () => {
  const t = new FakeTime();
  const d = new NullClockDriver({ timeSource: t });
  assert.equal(d.readRawTime(), t.real);
  assert.equal(d.setFrequencyPpm(100), 100);
  t.advance(10);
  assert.ok(Math.abs(d.virtualOffsetSeconds() - 0.001) < 1e-12);
  assert.equal(d.readRawTime(), t.real + 1_000_000n);
  // A device's CLOCK_REALTIME stamp from 2 s ago, on the virtual clock: 1 ms later too
  // (refclock samples; stamped as CLOCK_REALTIME they were refused once the virtual clock
  // had moved more than 1 ms ahead of it).
  assert.equal(d.rawFromRealtime(t.real - 2_000_000_000n), t.real - 2_000_000_000n + 1_000_000n);
  d.setFrequencyPpm(-50);
  t.advance(20);
  assert.ok(Math.abs(d.virtualOffsetSeconds() - 0) < 1e-12);
  assert.equal(d.readFrequencyPpm(), -50);
});

Deno.test("NullClockDriver adds steps and never touches the real clock", () => {
  const t = new FakeTime();
  const d = new NullClockDriver({ timeSource: t });
  d.stepBy(-3600);
  d.stepBy(0.5);
  assert.equal(d.virtualOffsetSeconds(), -3599.5);
  assert.equal(d.readRawTime(), t.real - 3_599_500_000_000n);
  assert.equal(d.setFrequencyPpm(1e7), 100_000);
  d.setLeap("insert", 37);
  assert.deepEqual(d.leapState(), { action: "insert", taiOffset: 37 });
  d.setSyncStatus(true, 0.001, 0.01);
  assert.deepEqual(d.syncStatus(), { synchronised: true, estError: 0.001, maxError: 0.01 });
});

Deno.test("NullClockDriver on the system clock reads CLOCK_REALTIME", () => {
  const d = new NullClockDriver();
  const ms = Number(d.readRawTime() / 1_000_000n);
  assert.ok(Math.abs(ms - Date.now()) < 1000);
});
