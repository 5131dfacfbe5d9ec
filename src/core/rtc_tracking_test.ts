import assert from "node:assert/strict";
import { driftFilePreInit, preInitDecision, RTC_MAX_SAMPLES, RtcTracking } from "./rtc_tracking.ts";
import { addSeconds, type Instant, instantFromParts, secondsBetween } from "../base/time.ts";

const BASE = 1_700_000_000;

/** System time at which an RTC `fast` s fast and gaining `ratePpm` reads BASE + k. */
function systemAt(k: number, fast: number, ratePpm: number): Instant {
  return addSeconds(instantFromParts(BASE + k), -(fast + k * ratePpm * 1e-6));
}

/** The true time when the RTC reads `rtcSeconds`, from the tracker's coefficients. */
function predictTrueTime(r: RtcTracking, rtcSeconds: number): Instant {
  const coefficients = r.coefficients();
  assert.ok(coefficients !== null);
  const input = { rtcSeconds, atUpdateEdge: true, coefficients, now: 0n, driftFileMtime: null };
  return preInitDecision(input).newTime;
}

Deno.test("measurement period follows chrony's schedule", () => {
  const r = new RtcTracking();
  const periods: number[] = [];
  for (let i = 0; i < 16; i++) {
    periods.push(r.measurementPeriod());
    r.addSample(BASE + i * 10, systemAt(i * 10, 0, 0));
  }
  assert.deepEqual(periods, [15, 15, 15, 15, 30, 30, 60, 60, 60, 60, 120, 120, 120, 120, 240, 240]);
  assert.equal(new RtcTracking({ initial: true }).measurementPeriod(), 1);
});

Deno.test("regression learns seconds fast and gain rate; predicts true time", () => {
  const r = new RtcTracking();
  for (let i = 0; i < 30; i++) {
    const jitter = (((i * 7919) % 13) - 6) * 1e-7;
    r.addSample(BASE + i * 100, addSeconds(systemAt(i * 100, 0.25, -35), jitter));
  }
  assert.ok(r.coefficients() !== null);
  assert.equal(r.refTime, BASE + 2900);
  assert.ok(Math.abs(r.secondsFast - (0.25 - 35e-6 * 2900)) < 3e-6);
  assert.ok(Math.abs(r.gainRate * 1e6 + 35) < 0.01);
  const t = predictTrueTime(r, BASE + 100_000);
  const expected = systemAt(100_000, 0.25, -35);
  assert.ok(Math.abs(secondsBetween(t, expected)) < 5e-4);
  const rep = r.report();
  assert.equal(rep.samples, r.sampleCount);
  assert.equal(rep.spanSeconds, (r.sampleCount - 1) * 100);
  assert.ok(Math.abs(rep.rtcGainRatePpm + 35) < 0.01);
  const c = r.coefficients()!;
  assert.equal(c.valid, true);
  assert.equal(c.refTime, BASE + 2900);
});

Deno.test("a full register drops the 4 oldest; an RTC going back drops everything", () => {
  const r = new RtcTracking();
  for (let i = 0; i < RTC_MAX_SAMPLES; i++) r.addSample(BASE + i, systemAt(i, 0, 0));
  assert.equal(r.sampleCount, RTC_MAX_SAMPLES);
  r.addSample(BASE + 100, systemAt(100, 0, 0));
  assert.equal(r.sampleCount, RTC_MAX_SAMPLES - 3);
  r.addSample(BASE + 50, systemAt(50, 0, 0));
  assert.equal(r.sampleCount, 1);
});

Deno.test("clock changes move the samples and coefficients; unknown steps drop samples", () => {
  const r = new RtcTracking();
  for (let i = 0; i < 10; i++) r.addSample(BASE + i * 60, systemAt(i * 60, 0.1, 10));
  const fast = r.secondsFast;
  const when = systemAt(600, 0.1, 10);
  r.applyClockChange({ when, dfreq: 0, doffset: 0.5, kind: "step" });
  assert.ok(Math.abs(r.secondsFast - (fast - 0.5)) < 1e-9);
  r.addSample(BASE + 660, addSeconds(systemAt(660, 0.1, 10), 0.5));
  assert.ok(Math.abs(r.secondsFast - (0.1 + 660 * 10e-6 - 0.5)) < 1e-6, `${r.secondsFast}`);
  r.applyClockChange({ when, dfreq: 0, doffset: 3, kind: "unknown" });
  assert.equal(r.sampleCount, 0);
});

Deno.test("trimrtc sets the RTC when > 1 s off, then relocks with the saved rate", () => {
  const r = new RtcTracking();
  for (let i = 0; i < 10; i++) r.addSample(BASE + i * 60, systemAt(i * 60, 2.5, 12));
  const now = addSeconds(systemAt(600, 2.5, 12), 0.3);
  const trim = r.trim(now);
  assert.ok(trim);
  assert.equal(trim.setRtcTo, Number(now / 1_000_000_000n));
  assert.equal(r.mode, "aftertrim");
  let relocked = null;
  for (let k = 1; k <= 10 && relocked === null; k++) {
    // After the set, the RTC ticks R+1 half a second later and is ~0.5 s fast.
    const e = r.addSample(trim.setRtcTo + k, addSeconds(instantFromParts(trim.setRtcTo + k), -0.5));
    if (e.kind === "relocked") relocked = e;
  }
  assert.ok(relocked && relocked.coefficients);
  assert.ok(Math.abs(relocked.coefficients.secondsFast - 0.5) < 1e-6);
  assert.ok(Math.abs(relocked.coefficients.gainRatePpm - 12) < 0.01);
  assert.equal(r.mode, "normal");
  const small = new RtcTracking();
  for (let i = 0; i < 5; i++) small.addSample(BASE + i * 60, systemAt(i * 60, 0.5, 0));
  assert.equal(small.trim(systemAt(300, 0.5, 0)), null);
});

Deno.test("rtcautotrim trims only when synchronised and over the threshold", () => {
  const r = new RtcTracking({ autoTrimThreshold: 2 });
  let trimmed = false;
  for (let i = 0; i < 6; i++) {
    const e = r.addSample(BASE + i * 60, systemAt(i * 60, 3, 0), false);
    if (e.kind === "trim") trimmed = true;
  }
  assert.equal(trimmed, false);
  const e = r.addSample(BASE + 400, systemAt(400, 3, 0), true);
  assert.equal(e.kind, "trim");
});

Deno.test("boot decision: >= 1 s rule, half-second for arbitrary reads, driftfile mtime", () => {
  const coefficients = { valid: true, refTime: BASE, secondsFast: 0.2, gainRatePpm: 10 };
  const rtcSeconds = BASE + 100_000;
  const err = 0.2 + 100_000 * 10e-6;
  const far = preInitDecision({
    rtcSeconds,
    atUpdateEdge: true,
    coefficients,
    now: instantFromParts(BASE - 86400),
    driftFileMtime: null,
  });
  assert.equal(far.step, true);
  assert.ok(Math.abs(secondsBetween(far.newTime, instantFromParts(rtcSeconds)) + err) < 1e-9);
  const arbitrary = preInitDecision({
    rtcSeconds,
    coefficients,
    now: instantFromParts(BASE - 86400),
    driftFileMtime: null,
  });
  assert.ok(
    Math.abs(secondsBetween(arbitrary.newTime, instantFromParts(rtcSeconds)) - (0.5 - err)) < 1e-9,
  );
  const near = preInitDecision({
    rtcSeconds,
    atUpdateEdge: true,
    coefficients,
    now: addSeconds(instantFromParts(rtcSeconds), 0.4 - err),
    driftFileMtime: null,
  });
  assert.equal(near.step, false);
  assert.equal(!near.step && near.reason, "small");
  const old = preInitDecision({
    rtcSeconds,
    atUpdateEdge: true,
    coefficients,
    now: instantFromParts(0),
    driftFileMtime: instantFromParts(rtcSeconds + 3600),
  });
  assert.equal(!old.step && old.reason, "before-driftfile");
  const noFile = preInitDecision({
    rtcSeconds,
    atUpdateEdge: true,
    coefficients: null,
    now: instantFromParts(0),
    driftFileMtime: null,
  });
  assert.equal(noFile.newTime, instantFromParts(rtcSeconds));
});

Deno.test("a frequency change of the system clock keeps the RTC model consistent", () => {
  const rtcPpm = 20;
  const sysPpm = -10; // the system clock runs 10 ppm slow until corrected
  const t0 = instantFromParts(BASE);
  const r = new RtcTracking();
  // RTC reads BASE + k at true time t0 + k / (1 + 20 ppm).
  const trueAt = (k: number) => addSeconds(t0, k / (1 + rtcPpm * 1e-6));
  let sysRate = 1 + sysPpm * 1e-6;
  let sysBaseTrue = t0;
  let sysBase = t0;
  const sysAt = (t: Instant) => addSeconds(sysBase, secondsBetween(t, sysBaseTrue) * sysRate);
  for (let k = 0; k <= 3000; k += 100) r.addSample(BASE + k, sysAt(trueAt(k)));
  assert.ok(Math.abs(r.gainRate * 1e6 - 30) < 0.05, `before ${r.gainRate * 1e6}`);
  // Correct the system clock's frequency by +10 ppm at RTC time 3050.
  const tc = trueAt(3050);
  const when = sysAt(tc);
  sysBase = when;
  sysBaseTrue = tc;
  sysRate *= 1 + 1e-5;
  r.applyClockChange({ when, dfreq: 1e-5, doffset: 0, kind: "adjust" });
  assert.ok(Math.abs(r.gainRate * 1e6 - 20) < 0.05, `after change ${r.gainRate * 1e6}`);
  for (let k = 3100; k <= 6000; k += 100) r.addSample(BASE + k, sysAt(trueAt(k)));
  assert.ok(Math.abs(r.gainRate * 1e6 - 20) < 0.05, `after samples ${r.gainRate * 1e6}`);
  const predicted = predictTrueTime(r, BASE + 10_000);
  assert.ok(Math.abs(secondsBetween(predicted, sysAt(trueAt(10_000)))) < 1e-4);
});

Deno.test("without an RTC the clock is moved up to the driftfile's mtime", () => {
  const now = instantFromParts(BASE);
  assert.equal(driftFilePreInit(now, null), null);
  assert.equal(driftFilePreInit(now, instantFromParts(BASE - 10)), null);
  assert.equal(driftFilePreInit(now, instantFromParts(BASE + 3600)), 3600);
});
