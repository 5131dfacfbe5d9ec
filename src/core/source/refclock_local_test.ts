import assert from "node:assert/strict";
import { defaultConfig } from "../../config/defaults.ts";
import { parseRefclockArgs } from "../../config/refclock_options.ts";
import { FakeDriver, VirtualScheduler } from "../../../tests/helpers/discipline_testing.ts";
import { Engine } from "../engine/engine.ts";
import { SourceStats } from "../sourcestats.ts";
import {
  followLocal,
  LOCAL_MIN_LOCK_AGE,
  localEstimate,
  localLockLost,
  pulseOptions,
  selfLock,
  wholeSecondCorrection,
} from "./refclock_local.ts";
import type { RefclockSource } from "./refclock.ts";

const T0 = 1_750_000_000_000_000_000n;
const S = 1_000_000_000n;

function rc(line: string) {
  const r = parseRefclockArgs(line.split(" "));
  if (!r.ok) throw new Error(r.error);
  return r.refclock;
}

Deno.test("refclock local: follow_local's change leaves the previous estimate in force", () => {
  const prev = { refTime: T0, offset: 0.2, frequency: 3e-5 };
  const next = { refTime: T0 + 16n * S, offset: 0.2 + 16 * 3e-5 + 4e-6, frequency: 3.5e-5 };
  const a = followLocal(prev, next)!;
  // The offset beyond the previous prediction, and the frequency change...
  assert.ok(Math.abs(a.doffset - 4e-6) < 1e-12, `${a.doffset}`);
  // ...which, applied as a clock change, brings the refclock's frequency back to 3e-5.
  const after = (next.frequency - a.dfreq) / (1 + a.dfreq);
  assert.ok(Math.abs(after - prev.frequency) < 1e-15, `${after}`);
  assert.equal(followLocal(null, next), null);
  assert.equal(followLocal(prev, null), null);
  assert.equal(followLocal(prev, { ...next, offset: NaN }), null);
});

Deno.test("refclock local: whole seconds, the self lock and its age", () => {
  assert.equal(wholeSecondCorrection(0.999), 0);
  assert.equal(wholeSecondCorrection(1.2), -1);
  assert.equal(wholeSecondCorrection(-2.6), 3);
  const first = selfLock(null, T0, 0.25, 1e-7);
  assert.deepEqual(first, { time: T0, offset: 0.25, dispersion: 1e-7, leap: 3 });
  const own = { time: T0, offset: 0.3, dispersion: 0, leap: 3 as const };
  assert.equal(selfLock(own, T0 + S, 0.1, 1), own);
  const o = pulseOptions(rc("PHC /dev/ptp0 local"), 0);
  assert.equal(o.maxLockAge, LOCAL_MIN_LOCK_AGE, "chrony: at least 3 for a local refclock");
  assert.equal(pulseOptions(rc("PHC /dev/ptp0 local maxlockage 9"), 0).maxLockAge, 9);
  assert.equal(pulseOptions(rc("PPS /dev/pps0 lock X"), 0).maxLockAge, 2);
  assert.equal(localLockLost(T0 + 2n * S, own, o), false);
  assert.equal(localLockLost(T0 + 3n * S, own, o), true);
  assert.equal(localLockLost(T0 + 9n * S, null, o), false);
});

Deno.test("refclock local: no estimate before minsamples", () => {
  const stats = new SourceStats({
    minSamples: 6,
    maxSamples: 0,
    asymmetry: null,
    precision: 1e-9,
    maxClockError: 1,
    minDelay: null,
    maxJitter: 1,
  });
  const add = (k: number) => {
    stats.accumulate({
      time: T0 + BigInt(k) * 4n * S,
      offset: 0.1 + k * 4e-5,
      peerDelay: 1e-9,
      peerDispersion: 1e-7,
      rootDelay: 1e-9,
      rootDispersion: 1e-7,
      stratum: 0,
      leap: 3,
    });
    stats.regress();
  };
  for (let k = 0; k < 5; k++) add(k);
  assert.equal(localEstimate(stats), null);
  add(5);
  const e = localEstimate(stats)!;
  assert.ok(Math.abs(e.frequency - 1e-5) < 1e-9, `${e.frequency}`);
});

/**
 * An engine whose only source is a local refclock: a device that runs 1000 ppm slow, 0.4 s
 * off true time, read every second. At second 400 the system oscillator gains 10 ppm.
 */
function localOnly(line: string) {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset: 0.05, error: 20e-6 });
  const lines: string[] = [];
  const engine = new Engine({ ...defaultConfig(), clockPrecision: 1e-8 }, {
    driver,
    timers: sched,
    random: { fill: (b: Uint8Array) => void b.fill(1), next: () => 0.5 },
    log: { log: (_l: string, m: string) => lines.push(m) },
  });
  const id = engine.addRefclock(rc(line), "PHC0");
  engine.start({ send: () => false });
  const feed = (to: number) => {
    for (let t = Math.floor(sched.now) + 1; t <= to; t++) {
      sched.runUntil(t - 0.5);
      const raw = driver.readRawTime();
      const device = Number(driver.trueNow() - raw) / 1e9 - 0.4 - 1e-3 * sched.now;
      engine.refclockSample(id, raw, device, 0);
    }
  };
  feed(200);
  const first = driver.clockError();
  feed(400);
  const before = (driver.clockError() - first) / 200;
  driver.setFrequencyPpm(driver.freqPpm); // settles the fake oscillator before its change
  driver.error += 10e-6;
  feed(800);
  const a = driver.clockError();
  feed(1400);
  const after = (driver.clockError() - a) / 600;
  return { engine, id, lines, before, after };
}

Deno.test("refclock local: the system clock keeps the rate it had to the stable device", () => {
  const r = localOnly("PHC /dev/ptp0 local poll 2");
  // The 10 ppm gained by the oscillator is taken out again; without local it is not.
  assert.ok(Math.abs(r.after - r.before) < 0.5e-6, `before ${r.before}, after ${r.after}`);
  const plain = localOnly("PHC /dev/ptp0 poll 2 noselect");
  assert.ok(Math.abs(plain.after - plain.before - 10e-6) < 0.5e-6, `${plain.after}`);
  // Never selected: announced unsynchronised, the reference stays unsynchronised.
  const row = r.engine.sources().find((s) => s.address === "PHC0")!;
  assert.notEqual(row.state, "selected");
  assert.equal(r.engine.tracking().leapStatus, 3);
  const src = r.engine.source(r.id) as RefclockSource;
  assert.equal(src.leapStatus, 3);
  // 1.4 s of device drift, yet the offsets stay within a second (whole seconds taken off).
  const last = src.stats.lastSample()!;
  assert.ok(Math.abs(last.offset) < 1, `${last.offset}`);
  assert.ok(!r.lines.some((l) => l.includes("lost lock")), r.lines.join("\n"));
});

Deno.test("refclock local: a gap longer than maxlockage restarts it (chrony: lost lock)", () => {
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { initialOffset: 0.05, error: 20e-6 });
  const lines: string[] = [];
  const engine = new Engine({ ...defaultConfig(), clockPrecision: 1e-8 }, {
    driver,
    timers: sched,
    random: { fill: (b: Uint8Array) => void b.fill(1), next: () => 0.5 },
    log: { log: (_l: string, m: string) => lines.push(m) },
  });
  const id = engine.addRefclock(rc("PHC /dev/ptp0 local poll 2"), "PHC0");
  engine.start({ send: () => false });
  const read = (t: number) => {
    sched.runUntil(t);
    const raw = driver.readRawTime();
    engine.refclockSample(id, raw, Number(driver.trueNow() - raw) / 1e9 + 0.3, 0);
  };
  for (let t = 1; t <= 60; t++) read(t - 0.5);
  const src = engine.source(id) as RefclockSource;
  assert.ok(src.stats.sampleCount >= 6);
  assert.equal(src.reachability & 1, 1);
  read(64.5); // four seconds after the last: past the lock age of 3
  assert.ok(lines.includes("Local refclock lost lock"), lines.join("\n"));
  assert.equal(src.stats.sampleCount, 0);
  assert.equal(src.reachability, 0);
  read(65.5); // and it locks to itself again
  assert.equal(src.pendingSamples, 1);
});
