import assert from "node:assert/strict";
import { defaultConfig } from "../../../src/config/defaults.ts";
import { FakeDriver, VirtualScheduler } from "../../../src/core/discipline_testing.ts";
import { LocalClock } from "../../../src/core/local_clock.ts";
import { Reference } from "../../../src/core/reference.ts";

Deno.test("reference: a step moves the reference time and last update with the clock", () => {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, {});
  const clock = new LocalClock(driver, sched, { precision: 1e-9 });
  const ref = new Reference(
    { ...defaultConfig(), makeStep: { threshold: 1, limit: -1 } },
    { clock, driver, timers: sched, log: { log() {} } },
  );
  clock.addObserver((c) => ref.applyClockChange(c));
  const update = (offset: number) => ({
    stratum: 1,
    leap: 0 as const,
    combinedCount: 1,
    refId: 0xc0000201,
    refAddress: "192.0.2.1",
    refTime: clock.cookedNow(),
    offset,
    offsetSd: 1e-4,
    frequencyPpm: 0,
    frequencySdPpm: 0.01,
    skewPpm: 0.1,
    rootDelay: 1e-3,
    rootDispersion: 1e-4,
  });
  assert.equal(ref.update(update(1000)), "stepped");
  const now = clock.cookedNow();
  const report = ref.trackingReport();
  // The reference time is on the stepped scale: now, not 1000 s ago.
  assert.ok(Math.abs(Number(now - report.refTime) / 1e9) < 1e-3, `${now} ${report.refTime}`);
  assert.ok(report.rootDispersion < 1e-3, `root dispersion ${report.rootDispersion}`);
  sched.runUntil(sched.now + 64);
  ref.update(update(0.001));
  const interval = ref.trackingReport().lastUpdateInterval;
  assert.ok(Math.abs(interval - 64) < 1, `update interval ${interval}`);
});
