import assert from "node:assert/strict";
import { defaultConfig } from "../config/defaults.ts";
import type { Config } from "../config/model.ts";
import { FakeDriver, VirtualScheduler } from "../../tests/helpers/discipline_testing.ts";
import { LocalClock } from "./local_clock.ts";
import { clockEstimates, correctionRate } from "./reference_guards.ts";
import { Reference } from "./reference.ts";
import { LOCAL_REFERENCE_ID, MANUAL_REFERENCE_ID } from "./reference_report.ts";
import type { ReferenceUpdate } from "./reference_types.ts";

function setup(patch: Partial<Config> = {}, epoch?: bigint) {
  const cfg = { ...defaultConfig(), ...patch };
  const sched = new VirtualScheduler();
  const driver = new FakeDriver(sched, { epoch });
  const clock = new LocalClock(driver, sched, { precision: 1e-9 });
  const lines: string[] = [];
  const log = { log: (_l: string, m: string) => lines.push(m) };
  const ref = new Reference(cfg, { clock, driver, timers: sched, log });
  return { sched, driver, clock, ref, lines };
}

function estimate(clock: LocalClock, offset: number, extra: Partial<ReferenceUpdate> = {}) {
  return {
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
    ...extra,
  };
}

Deno.test("makestep is off by default: a 10 s offset is slewed, never stepped", () => {
  const { sched, driver, clock, ref, lines } = setup();
  for (let i = 0; i < 5; i++) {
    assert.equal(ref.update(estimate(clock, 10)), "slewed");
    sched.runUntil(sched.now + 64);
  }
  assert.deepEqual(driver.steps, []);
  assert.ok(lines.some((l) => l.startsWith("System clock wrong by 10.000000 seconds, adjustment")));
});

Deno.test("makestep 1 3 steps only in the first 3 updates", () => {
  const { sched, driver, clock, ref, lines } = setup({ makeStep: { threshold: 1, limit: 3 } });
  assert.equal(ref.update(estimate(clock, 0.5)), "slewed"); // update 1, below threshold
  sched.runUntil(10);
  assert.equal(ref.update(estimate(clock, 5)), "stepped"); // update 2
  assert.equal(driver.steps.length, 1);
  assert.ok(lines.includes("System clock was stepped by 5.000000 seconds"));
  sched.runUntil(20);
  assert.equal(ref.update(estimate(clock, -3)), "stepped"); // update 3
  sched.runUntil(30);
  assert.equal(ref.update(estimate(clock, 4)), "slewed"); // update 4: limit used up
  assert.equal(driver.steps.length, 2);
});

Deno.test("frequency gain from skews: 3e^2/(3e^2+m^2), 0 above maxupdateskew, 1 manual", () => {
  const g = clockEstimates(false, 10, 2, 1, 1000);
  assert.ok(Math.abs(g.gain - 3 / 7) < 1e-12);
  assert.ok(Math.abs(g.freqPpm - 30 / 7) < 1e-12);
  assert.ok(Math.abs(g.residualPpm - 40 / 7) < 1e-12);
  assert.ok(g.skewPpm > 1 && g.skewPpm < 2 + 10);
  assert.equal(clockEstimates(false, 10, 2000, 1, 1000).gain, 0);
  assert.equal(clockEstimates(true, 10, 2000, 1, 1000).gain, 1);
});

Deno.test("the first update takes the measured frequency fully (no driftfile)", () => {
  const { clock, ref } = setup();
  ref.update(estimate(clock, 0, { frequencyPpm: 100, skewPpm: 5 }));
  assert.ok(Math.abs(clock.freqPpm - 100) < 1e-3, `${clock.freqPpm}`);
  const t = ref.trackingReport();
  assert.equal(t.synchronised, true);
  assert.equal(t.stratum, 2);
  assert.equal(t.refAddress, "192.0.2.1");
});

Deno.test("maxchange ignores then reports a fatal exit", () => {
  const { clock, ref } = setup({ maxChange: { offset: 1, start: 1, ignore: 2 } });
  let fatal = "";
  ref.onFatal = (m) => fatal = m;
  assert.equal(ref.update(estimate(clock, 5)), "slewed"); // start: first update passes
  assert.equal(ref.update(estimate(clock, 5)), "ignored");
  assert.equal(ref.update(estimate(clock, 5)), "ignored");
  assert.equal(fatal, "");
  assert.equal(ref.update(estimate(clock, 5)), "ignored");
  assert.match(fatal, /exceeds the allowed maximum of 1.000 seconds \(exiting\)/);
});

Deno.test("a leap second is accepted only on 30 June or 31 December", () => {
  // 2026-06-30T12:00:00Z
  const june30 = BigInt(Date.UTC(2026, 5, 30, 12)) * 1_000_000n;
  const a = setup({}, june30);
  a.ref.update(estimate(a.clock, 0, { leap: 1 }));
  assert.deepEqual(a.driver.leaps, ["insert"]);
  assert.equal(a.ref.state().leap, 1);
  // 2026-06-29T12:00:00Z: ignored
  const june29 = BigInt(Date.UTC(2026, 5, 29, 12)) * 1_000_000n;
  const b = setup({}, june29);
  b.ref.update(estimate(b.clock, 0, { leap: 1 }));
  assert.deepEqual(b.driver.leaps, []);
  assert.equal(b.ref.state().leap, 0);
});

Deno.test("leapsecmode step steps back one second at midnight; samples near it dropped", () => {
  const start = BigInt(Date.UTC(2026, 11, 31, 23, 59, 0)) * 1_000_000n;
  const { sched, driver, clock, ref } = setup({ leapSecMode: "step" }, start);
  ref.update(estimate(clock, 0, { leap: 1 }));
  assert.equal(ref.isLeapSecondClose(clock.cookedNow()), false);
  sched.runUntil(58);
  assert.equal(ref.isLeapSecondClose(clock.cookedNow()), true);
  sched.runUntil(61);
  assert.deepEqual(driver.steps.map((s) => Math.round(s)), [-1]);
});

Deno.test("unsynchronised state, local reference and manual reference", () => {
  const { sched, clock, ref } = setup();
  ref.setUnsynchronised();
  assert.equal(ref.state().synchronised, false);
  assert.equal(ref.state().stratum, 16);
  assert.equal(ref.trackingReport().stratum, 0);
  ref.setLocal({
    stratum: 8,
    distance: 1,
    orphan: false,
    waitUnsynced: 0,
    waitSynced: 0,
    activate: 0,
  });
  sched.runUntil(1);
  assert.equal(ref.state().refId, LOCAL_REFERENCE_ID);
  assert.equal(ref.state().stratum, 8);
  ref.setLocal(null);
  ref.setManualReference(0.25, 3, 0.1);
  const t = ref.trackingReport();
  assert.equal(t.refId, MANUAL_REFERENCE_ID);
  assert.equal(t.leapStatus, 3);
  assert.ok(Math.abs(clock.freqPpm - 3) < 1e-9);
});

Deno.test("fallback drift sets the frequency after 2^i s unsynchronised", () => {
  const { sched, clock, ref, lines } = setup({ fallbackDrift: { min: 4, max: 6 } });
  clock.setAbsoluteFrequency(50);
  for (let i = 0; i < 20; i++) {
    ref.update(estimate(clock, 0));
    sched.runUntil(sched.now + 8);
  }
  clock.setAbsoluteFrequency(0);
  ref.setUnsynchronised();
  sched.runUntil(sched.now + 20);
  assert.ok(Math.abs(clock.freqPpm - 50) < 1e-6, `${clock.freqPpm}`);
  sched.runUntil(sched.now + 200);
  assert.equal(lines.filter((l) => l.startsWith("Fallback drift 4 active")).length, 1);
  assert.equal(lines.filter((l) => l.startsWith("Fallback drift 6 active")).length, 1);
});

Deno.test("holdover: no updates keeps the reference until the first fallback drift is due", () => {
  const { sched, clock, ref, lines } = setup({ fallbackDrift: { min: 4, max: 6 } });
  clock.setAbsoluteFrequency(50);
  for (let i = 0; i < 20; i++) {
    ref.update(estimate(clock, 0));
    sched.runUntil(sched.now + 8);
  }
  clock.setAbsoluteFrequency(0);
  sched.runUntil(sched.now + 5); // 13 s since the last update
  assert.equal(ref.state().synchronised, true, "holdover");
  assert.equal(ref.trackingReport().stratum, 2);
  assert.equal(clock.freqPpm, 0);
  sched.runUntil(sched.now + 5); // 18 s: fallback drift 4 (16 s) came due
  assert.equal(ref.state().synchronised, false, "a due fallback drift unsynchronises");
  assert.ok(Math.abs(clock.freqPpm - 50) < 1e-6, `${clock.freqPpm}`);
  assert.equal(lines.filter((l) => l.startsWith("Fallback drift 4 active")).length, 1);
  sched.runUntil(sched.now + 100);
  assert.equal(lines.filter((l) => l.startsWith("Fallback drift 6 active")).length, 1);
});

Deno.test("an unknown step of the clock unsynchronises the reference (chrony handle_slew)", () => {
  const { clock, ref } = setup();
  ref.update(estimate(clock, 0));
  assert.equal(ref.state().synchronised, true);
  ref.handleUnknownStep();
  assert.equal(ref.state().synchronised, false);
  assert.equal(ref.trackingReport().leapStatus, 3);
  ref.update(estimate(clock, 0));
  assert.equal(ref.state().synchronised, true, "the next update synchronises again");
  assert.equal(ref.trackingReport().lastUpdateInterval, 0, "treated as the first update");
});

Deno.test("leapsecmode slew slews the inserted second out in about 12 s", () => {
  const start = BigInt(Date.UTC(2026, 5, 30, 23, 59, 0)) * 1_000_000n;
  const { sched, driver, clock, ref } = setup({ leapSecMode: "slew" }, start);
  ref.update(estimate(clock, 0, { leap: 1 }));
  sched.runUntil(60.5);
  assert.ok(Math.abs(clock.remainingCorrection() + 1) < 0.05, `${clock.remainingCorrection()}`);
  sched.runUntil(74);
  assert.ok(Math.abs(driver.clockError() + 1) < 1e-3, `${driver.clockError()}`);
  assert.deepEqual(driver.steps, []);
});

Deno.test("local activate waits for a good root distance; waitunsynced delays the local reference", () => {
  const { sched, clock, ref } = setup();
  ref.setLocal({
    stratum: 8,
    distance: 1,
    orphan: false,
    waitUnsynced: 100,
    waitSynced: 0,
    activate: 0.01,
  });
  ref.setUnsynchronised();
  sched.runUntil(200);
  assert.equal(ref.state().synchronised, false, "never activated: root distance never < 10 ms");
  ref.update(estimate(clock, 0, { rootDelay: 1e-3, rootDispersion: 1e-4 }));
  assert.equal(ref.state().stratum, 2, "synchronised to the source");
  ref.setUnsynchronised();
  sched.runUntil(250);
  assert.equal(ref.state().synchronised, false, "waitunsynced 100 s not over yet");
  sched.runUntil(320);
  assert.equal(ref.state().stratum, 8);
});

Deno.test("an offset is slewed over at least half the update interval (not for manual input)", () => {
  const { sched, clock, ref } = setup();
  ref.update(estimate(clock, 0));
  sched.runUntil(16);
  // 1 ms with a 1 µs standard deviation: chrony's rate alone would take 1 s (1000 ppm).
  ref.update(estimate(clock, 1e-3, { offsetSd: 1e-6 }));
  assert.ok(Math.abs(clock.slewFreqPpm) <= 1e-3 / 8 * 1e6 + 1e-6, `${clock.slewFreqPpm}`);
  sched.runUntil(32);
  ref.setManualReference(1e-3, 0, 0.1);
  assert.ok(Math.abs(clock.slewFreqPpm) >= 900, `manual: ${clock.slewFreqPpm}`);
});

Deno.test("after a long gap the minimum slew is taken from at most 1024 s", () => {
  const { sched, clock, ref } = setup();
  ref.update(estimate(clock, 0));
  sched.runUntil(20_000); // the reference was away for 5.5 hours
  // 5 ms measured precisely: slewed in ~512 s (about 10 ppm), not over 10 000 s (0.5 ppm).
  ref.update(estimate(clock, 5e-3, { offsetSd: 1e-6 }));
  const ppm = Math.abs(clock.slewFreqPpm);
  assert.ok(ppm > 9 && ppm < 11, `${ppm} ppm`);
});

Deno.test("a step moves the reference time and last update with the clock", () => {
  const { sched, clock, ref } = setup({ makeStep: { threshold: 1, limit: -1 } });
  clock.addObserver((c) => ref.applyClockChange(c));
  assert.equal(ref.update(estimate(clock, 1000)), "stepped");
  const now = clock.cookedNow();
  const report = ref.trackingReport();
  // The reference time is on the stepped scale: now, not 1000 s ago.
  assert.ok(Math.abs(Number(now - report.refTime) / 1e9) < 1e-3, `${now} ${report.refTime}`);
  assert.ok(report.rootDispersion < 1e-3, `root dispersion ${report.rootDispersion}`);
  sched.runUntil(sched.now + 64);
  ref.update(estimate(clock, 0.001));
  const interval = ref.trackingReport().lastUpdateInterval;
  assert.ok(Math.abs(interval - 64) < 1, `update interval ${interval}`);
});

Deno.test("correctionRate: chrony's rate, floored at half the update interval (capped at 1024 s)", () => {
  assert.equal(correctionRate(3, 0.01, 1e-3, 64, true), 3 * 0.5 * 1e-3 * 64);
  assert.equal(correctionRate(3, 0.01, 1e-3, 64, false), 0.01 * 64 * 0.5);
  assert.equal(correctionRate(3, 0.01, 1e-4, 4096, false), 0.01 * 1024 * 0.5);
  assert.equal(correctionRate(3, 0.01, 1, 64, false), 3 * 0.5 * 64);
  assert.equal(correctionRate(3, 0.01, 1e-3, 0, false), 0);
});
