import assert from "node:assert/strict";
import { FakeDriver, VirtualScheduler } from "../../tests/helpers/discipline_testing.ts";
import { LocalClock } from "./local_clock.ts";
import type { ClockChangeEvent } from "./types.ts";

function setup(initialOffset: number, error = 0) {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset, error });
  const clock = new LocalClock(driver, sched, { precision: 1e-9 });
  return { sched, driver, clock };
}

/** Cooked minus true time, seconds. */
function cookedError(clock: LocalClock, driver: FakeDriver): number {
  return Number(clock.cookedNow() - driver.trueNow()) / 1e9;
}

Deno.test("an offset of 0.5 s is slewed out at the expected rate, cooked time stays right", () => {
  const { sched, driver, clock } = setup(-0.5);
  const events: ClockChangeEvent[] = [];
  clock.addObserver((c) => events.push(c));
  // correction rate 50 s^2: duration = 50 / 0.5 = 100 s, slew 5000 ppm.
  clock.accumulateOffset(0.5, 50);
  assert.equal(events.length, 1);
  assert.equal(events[0].doffset, 0.5);
  assert.equal(events[0].kind, "adjust");
  assert.ok(Math.abs(clock.slewFreqPpm - 5000) < 1e-6);
  assert.ok(Math.abs(cookedError(clock, driver)) < 1e-8);
  sched.runUntil(50);
  assert.ok(Math.abs(driver.clockError() - -0.25) < 1e-6, `half way: ${driver.clockError()}`);
  assert.ok(Math.abs(cookedError(clock, driver)) < 1e-8);
  assert.ok(Math.abs(clock.remainingCorrection() - 0.25) < 1e-6);
  sched.runUntil(200);
  assert.ok(Math.abs(driver.clockError()) < 1e-6, `done: ${driver.clockError()}`);
  assert.equal(clock.slewFreqPpm, 0);
  assert.ok(Math.abs(clock.remainingCorrection()) < 1e-9);
});

Deno.test("a 100 s offset is removed by pure slewing at maxslewrate in about 1200 s", () => {
  const { sched, driver, clock } = setup(-100);
  clock.accumulateOffset(100, 0);
  assert.ok(Math.abs(clock.slewFreqPpm - 1e6 / 12) < 1e-3);
  sched.runUntil(1100);
  assert.ok(driver.clockError() < -1, "still slewing at 1100 s");
  assert.ok(Math.abs(cookedError(clock, driver)) < 1e-6);
  sched.runUntil(1210);
  assert.ok(Math.abs(driver.clockError()) < 1e-6, `after 1210 s: ${driver.clockError()}`);
});

Deno.test("frequency accumulates multiplicatively and observers get dfreq", () => {
  const { driver, clock } = setup(0, 100e-6);
  const events: ClockChangeEvent[] = [];
  clock.addObserver((c) => events.push(c));
  const d = -100 / 1.0001; // the relative change that cancels a +100 ppm oscillator
  clock.accumulateFrequencyAndOffset(d, 0, 0);
  assert.ok(Math.abs(clock.freqPpm - d) < 1e-9);
  assert.ok(Math.abs(driver.rateError()) < 1e-12, "rate error corrected");
  assert.ok(Math.abs(events[0].dfreq - d * 1e-6) < 1e-15);
  clock.accumulateFrequencyAndOffset(10, 0, 0);
  assert.ok(Math.abs(clock.freqPpm - (d + 10 * (1 + d * 1e-6))) < 1e-9);
  clock.setAbsoluteFrequency(200000);
  assert.equal(clock.freqPpm, 100000, "clamped to maxdrift");
});

Deno.test("step moves raw time by the offset plus the remaining correction", () => {
  const { sched, driver, clock } = setup(-3);
  const events: ClockChangeEvent[] = [];
  clock.addObserver((c) => events.push(c));
  clock.accumulateOffset(1, 1e6);
  sched.runUntil(10);
  const remaining = clock.remainingCorrection();
  assert.ok(remaining > 0.9 && remaining < 1);
  clock.step(2);
  assert.ok(Math.abs(driver.clockError()) < 1e-6);
  assert.equal(clock.remainingCorrection(), 0);
  assert.equal(events.at(-1)!.kind, "step");
  assert.equal(events.at(-1)!.doffset, 2);
  assert.ok(Math.abs(cookedError(clock, driver)) < 1e-6);
});

Deno.test("makeStepNow steps out the outstanding correction, cooked time unchanged", () => {
  const { driver, clock } = setup(-0.2);
  clock.accumulateOffset(0.2, 1e6);
  const before = cookedError(clock, driver);
  const stepped = clock.makeStepNow();
  assert.ok(Math.abs(stepped - 0.2) < 1e-9);
  assert.ok(Math.abs(driver.clockError()) < 1e-9);
  assert.ok(Math.abs(cookedError(clock, driver) - before) < 1e-9);
  assert.deepEqual(driver.steps.map((s) => Math.round(s * 1e6)), [200000]);
});

Deno.test("slew plus base frequency stays within the driver range", () => {
  const { clock, driver } = setup(-10);
  clock.setAbsoluteFrequency(50000);
  clock.accumulateOffset(10, 0);
  assert.ok(driver.freqPpm <= 100000 + 1e-6);
  assert.ok(clock.slewFreqPpm > 0);
});

Deno.test("a timer wake-up sees an outside step but not our own steps", () => {
  const { sched, driver, clock } = setup(0);
  const events: ClockChangeEvent[] = [];
  clock.addObserver((c) => events.push(c));
  let stamp = clock.jumpStamp();
  sched.runUntil(64);
  assert.equal(clock.checkForJump(stamp, 64), null, "no jump");
  stamp = clock.jumpStamp();
  clock.step(50);
  sched.runUntil(128);
  assert.equal(clock.checkForJump(stamp, 64), null, "our own step is not a jump");
  stamp = clock.jumpStamp();
  driver.stepBy(-100); // someone else steps the clock
  sched.runUntil(192);
  const jump = clock.checkForJump(stamp, 64);
  assert.ok(jump !== null && Math.abs(jump + 100) < 1e-6, `${jump}`);
  assert.equal(events.at(-1)!.kind, "unknown");
});

Deno.test("stop leaves the driver at the base frequency", () => {
  const { driver, clock } = setup(-1);
  clock.setAbsoluteFrequency(12);
  clock.accumulateOffset(1, 0);
  assert.ok(driver.freqPpm > 1000);
  const left = clock.stop();
  assert.ok(Math.abs(left - 1) < 1e-6);
  assert.equal(driver.freqPpm, 12);
});

Deno.test("a kernel leap second (raw clock back 1 s) under a short timer is not an outside step", () => {
  const { sched, driver, clock } = setup(0);
  const kinds: string[] = [];
  clock.addObserver((c) => kinds.push(c.kind));
  let stamp = clock.jumpStamp();
  driver.stepBy(-1); // what the kernel does at 23:59:60
  sched.runUntil(sched.now + 0.5);
  assert.equal(clock.checkForJump(stamp, 0.5), null);
  assert.deepEqual(kinds, []);
  stamp = clock.jumpStamp();
  driver.stepBy(-30); // a real outside step is still seen
  sched.runUntil(sched.now + 0.5);
  assert.notEqual(clock.checkForJump(stamp, 0.5), null);
  assert.deepEqual(kinds, ["unknown"]);
});

Deno.test("slewTimerMargin: a fast slew ends before its timer is due, the rest over a second", () => {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset: -0.03 });
  const clock = new LocalClock(driver, sched, { precision: 1e-9, slewTimerMargin: 0.05 });
  clock.accumulateOffset(0.03, 0); // 1 s at 30 000 ppm
  assert.ok(Math.abs(clock.slewFreqPpm - 30000) < 1e-6);
  sched.runUntil(0.97);
  // The timer came 50 ms early: about 1.5 ms left, slewed at about 1500 ppm.
  assert.ok(
    Math.abs(clock.remainingCorrection() - 1.5e-3) < 1e-4,
    `${clock.remainingCorrection()}`,
  );
  assert.ok(clock.slewFreqPpm > 1000 && clock.slewFreqPpm < 2000, `${clock.slewFreqPpm}`);
  sched.runUntil(5);
  assert.ok(Math.abs(driver.clockError()) < 1e-6, `done: ${driver.clockError()}`);
  assert.equal(clock.slewFreqPpm, 0);
});

Deno.test("accumulateQuietly changes the clock as accumulateFrequencyAndOffset, telling no one", () => {
  const { sched, driver, clock } = setup(-0.01);
  const events: ClockChangeEvent[] = [];
  clock.addObserver((c) => events.push(c));
  const change = clock.accumulateQuietly(5, 0.01, 10);
  assert.equal(events.length, 0, "chrony's NoHandlers: the observers are not called");
  assert.ok(change !== null);
  assert.equal(change.kind, "adjust");
  assert.equal(change.doffset, 0.01);
  assert.ok(Math.abs(change.dfreq - 5e-6) < 1e-12, `${change.dfreq}`);
  assert.ok(Math.abs(clock.freqPpm - 5) < 1e-9);
  // The 10 ms is slewed out of the raw clock (on top of the 5 ppm now running).
  sched.runUntil(2000);
  const slewed = driver.clockError() - 5e-6 * 2000;
  assert.ok(Math.abs(slewed) < 1e-5, `${slewed}`);
  assert.equal(clock.accumulateQuietly(NaN, 0, 1), null);
});

Deno.test("rate observers hear of every frequency change, the slew timer's included", () => {
  const { sched, clock } = setup(-0.5);
  const events: ClockChangeEvent[] = [];
  clock.addObserver((c) => events.push(c));
  let rates = 0;
  clock.addRateObserver(() => rates++);
  clock.accumulateOffset(0.5, 50); // a 100 s slew
  assert.equal(events.length, 1);
  const afterStart = rates;
  assert.ok(afterStart >= 1);
  sched.runUntil(200); // the slew timer ends the slew: no ordinary observer is told
  assert.equal(events.length, 1);
  assert.equal(clock.slewFreqPpm, 0);
  assert.ok(rates > afterStart, `${rates} rate notifications`);
});
