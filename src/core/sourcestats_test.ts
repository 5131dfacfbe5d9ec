import assert from "node:assert/strict";
import { gaussian, seededRandom } from "../../tests/helpers/random.ts";
import { SourceStats, type SourceStatsOptions } from "./sourcestats.ts";
import { addSeconds, type Instant } from "../base/time.ts";
import type { NtpSample } from "./types.ts";

const T0: Instant = 1_700_000_000n * 1_000_000_000n;

const OPTS: SourceStatsOptions = {
  minSamples: 6,
  maxSamples: 0,
  asymmetry: null,
  precision: 1e-7,
  maxClockError: 1,
};

function sample(time: Instant, offset: number, delay = 1e-3, extra: Partial<NtpSample> = {}) {
  return {
    time,
    offset,
    peerDelay: delay,
    peerDispersion: 1e-6,
    rootDelay: delay,
    rootDispersion: 1e-5,
    stratum: 2,
    leap: 0 as const,
    ...extra,
  };
}

/** Feeds `count` samples every `interval` s of a clock falling behind at `freq` (fraction). */
function feed(
  stats: SourceStats,
  rand: () => number,
  count: number,
  interval: number,
  freq: number,
  noise: number,
  offset0 = 0.001,
): Instant {
  let t = T0;
  for (let i = 0; i < count; i++) {
    t = addSeconds(T0, i * interval);
    stats.accumulate(sample(t, offset0 + freq * i * interval + noise * gaussian(rand)));
    stats.regress();
  }
  return t;
}

Deno.test("worst-case values with fewer than 3 samples", () => {
  const s = new SourceStats(OPTS);
  assert.equal(s.selectionData(T0), null);
  assert.equal(s.trackingData(), null);
  s.accumulate(sample(T0, 0.01));
  s.regress();
  const sel = s.selectionData(addSeconds(T0, 10));
  assert.ok(sel);
  assert.equal(sel.selectOk, false);
  assert.equal(sel.stdDev, 4);
  assert.equal(s.trackingData()!.skewPpm, 2000);
  assert.ok(Math.abs(sel.rootDistance - (0.0005 + 1e-5 + 10 * 2000e-6)) < 1e-12);
  assert.equal(s.predictOffset(addSeconds(T0, 100)), 0.01);
});

Deno.test("regression recovers frequency, offset and jitter", () => {
  const rand = seededRandom(42);
  const s = new SourceStats(OPTS);
  const freq = 12.5e-6;
  const last = feed(s, rand, 30, 64, freq, 20e-6);
  const tr = s.trackingData();
  assert.ok(tr);
  assert.ok(Math.abs(tr.frequencyPpm - 12.5) < 0.2, `freq ${tr.frequencyPpm}`);
  assert.ok(tr.skewPpm > 0 && tr.skewPpm < 1, `skew ${tr.skewPpm}`);
  assert.ok(Math.abs(tr.frequencyPpm - 12.5) < tr.skewPpm, "true frequency inside the skew");
  const trueNow = 0.001 + freq * 29 * 64;
  assert.ok(Math.abs(tr.offset - trueNow) < 3 * tr.offsetSd + 1e-6, `offset ${tr.offset}`);
  assert.ok(s.stdDev > 10e-6 && s.stdDev < 30e-6, `sd ${s.stdDev}`);
  const sel = s.selectionData(addSeconds(last, 30));
  assert.ok(sel && sel.selectOk);
  const trueLater = trueNow + freq * 30;
  assert.ok(sel.lowLimit <= trueLater && trueLater <= sel.highLimit);
  assert.ok(Math.abs(s.predictOffset(addSeconds(last, 30)) - trueLater) < 1e-5);
  const rep = s.report(addSeconds(last, 30));
  assert.equal(rep.samples, s.sampleCount);
  assert.ok(rep.spanSeconds > 0 && rep.runs > 0);
  assert.ok(Math.abs(rep.residualFreqPpm - 12.5) < 0.2);
  // statistics.log's "Offset sd" is the regression's own figure, not the sourcestats error
  // bound (which adds half the root delay).
  assert.equal(rep.offsetSd, tr.offsetSd);
  assert.ok(rep.offsetSd! < 10e-6 && rep.offsetSd! < rep.estimatedOffsetError);
  assert.equal(rep.asymmetry, 0);
  const dt = s.delayTestData(addSeconds(last, 30));
  assert.ok(dt);
  assert.equal(dt.minDelay, 1e-3);
  assert.ok(Math.abs(dt.predictedOffset - trueLater) < 1e-5);
});

Deno.test("the window holds at most 64 samples (or maxsamples)", () => {
  const rand = seededRandom(1);
  const s = new SourceStats(OPTS);
  feed(s, rand, 100, 16, 0, 1e-5);
  assert.ok(s.sampleCount <= 64 && s.sampleCount >= 6);
  const m = new SourceStats({ ...OPTS, maxSamples: 8 });
  feed(m, rand, 20, 16, 0, 1e-5);
  assert.ok(m.sampleCount <= 8);
});

Deno.test("a frequency step shortens the window via the runs test", () => {
  const rand = seededRandom(9);
  const s = new SourceStats(OPTS);
  let t = T0;
  let off = 0;
  for (let i = 0; i < 60; i++) {
    t = addSeconds(T0, i * 16);
    off += (i < 40 ? 20e-6 : -20e-6) * 16;
    s.accumulate(sample(t, off + 1e-7 * gaussian(rand)));
    s.regress();
  }
  assert.ok(s.sampleCount <= 24, `n ${s.sampleCount}`);
  assert.ok(Math.abs(s.trackingData()!.frequencyPpm - -20) < 0.5);
});

Deno.test("statistics.log figures: stress, runs-test start and pre-pruning count", () => {
  const rand = seededRandom(9);
  const s = new SourceStats(OPTS);
  assert.equal(s.report(T0).stress, undefined);
  let off = 0;
  let stressAtStep = 0;
  let prunedAt = -1;
  let steadyStress = 0;
  for (let i = 0; i < 60; i++) {
    const t = addSeconds(T0, i * 16);
    off += (i < 40 ? 20e-6 : -20e-6) * 16;
    s.accumulate(sample(t, off + 1e-7 * gaussian(rand)));
    const before = s.sampleCount;
    s.regress();
    const r = s.report(t);
    if (i < 3) continue;
    assert.equal(r.regressionSamples, before);
    assert.equal(r.samples, before - r.bestStart!);
    if (i >= 20 && i < 40) steadyStress = Math.max(steadyStress, r.stress!);
    if (i >= 40) stressAtStep = Math.max(stressAtStep, r.stress!);
    if (prunedAt < 0 && r.bestStart! > 0) prunedAt = i;
  }
  // A stable clock moves its frequency by less than its skew; after a 40 ppm step the change
  // is many skews, and the runs test drops the old samples once the residuals show it.
  assert.ok(steadyStress < 1, `steady stress ${steadyStress}`);
  assert.ok(stressAtStep > 10, `stress ${stressAtStep}`);
  assert.ok(prunedAt >= 40, `first pruned at ${prunedAt}`);
});

Deno.test("applyClockChange keeps predictions consistent; unknown step resets", () => {
  const rand = seededRandom(2);
  const s = new SourceStats(OPTS);
  const last = feed(s, rand, 20, 32, 5e-6, 1e-6);
  const when = addSeconds(last, 10);
  const future = addSeconds(last, 200);
  const before = s.predictOffset(future);
  const change = { when, dfreq: 5e-6, doffset: 0.002, kind: "adjust" as const };
  s.applyClockChange(change);
  // The same physical instant `future` reads later on the new scale.
  const shift = 0.002 + 190 * 5e-6;
  const after = s.predictOffset(addSeconds(future, shift));
  assert.ok(Math.abs(after - (before - shift)) < 1e-8, `${after} vs ${before - shift}`);
  assert.ok(Math.abs(s.frequency - 0) < 1e-7, `freq ${s.frequency}`);
  s.applyClockChange({ ...change, kind: "unknown" });
  assert.equal(s.sampleCount, 0);
  assert.equal(s.trackingData(), null);
});

Deno.test("out-of-order samples discard the history", () => {
  const s = new SourceStats(OPTS);
  s.accumulate(sample(addSeconds(T0, 10), 0));
  s.accumulate(sample(addSeconds(T0, 5), 0));
  assert.equal(s.sampleCount, 1);
  assert.equal(s.outOfOrderResets, 1);
});

Deno.test("delay-weighted regression discounts congested samples", () => {
  const rand = seededRandom(4);
  const s = new SourceStats(OPTS);
  for (let i = 0; i < 40; i++) {
    const congested = rand() < 0.3;
    const extra = congested ? 0.02 + rand() * 0.02 : rand() * 1e-5;
    // Extra delay on the return path only: the measured offset is off by -extra/2.
    const off = 0.005 - extra / 2 + 1e-6 * gaussian(rand);
    s.accumulate(sample(addSeconds(T0, i * 16), off, 1e-3 + extra));
    s.regress();
  }
  const tr = s.trackingData()!;
  assert.ok(Math.abs(tr.offset - 0.005) < 1e-3, `offset ${tr.offset}`);
});

Deno.test("jitter asymmetry is estimated and corrected; asymmetry 0 disables it", () => {
  function run(asymmetry: number | null) {
    const rand = seededRandom(8);
    const s = new SourceStats({ ...OPTS, asymmetry });
    for (let i = 0; i < 60; i++) {
      const extra = rand() * 0.01;
      // All jitter on the path to the source: offset (reference − local) grows by extra/2.
      const off = 0.002 + extra / 2 + 1e-6 * gaussian(rand);
      s.accumulate(sample(addSeconds(T0, i * 16), off, 1e-3 + extra));
      s.regress();
    }
    return s;
  }
  const est = run(null);
  assert.ok(est.jitterAsymmetry < -0.45, `asym ${est.jitterAsymmetry}`);
  assert.ok(Math.abs(est.trackingData()!.offset - 0.002) < 1e-4);
  const off = run(0);
  assert.equal(off.jitterAsymmetry, 0);
  assert.ok(Math.abs(off.trackingData()!.offset - 0.002) > 1e-4);
  const fixed = run(-0.5);
  assert.equal(fixed.jitterAsymmetry, -0.5);
  assert.ok(Math.abs(fixed.trackingData()!.offset - 0.002) < 1e-4);
});

Deno.test("a delay-gated source switches the asymmetry correction on only on a clear estimate", () => {
  function run(delayGated: boolean, noise: number) {
    const rand = seededRandom(9);
    const s = new SourceStats({ ...OPTS, delayGated });
    for (let i = 0; i < 60; i++) {
      const extra = rand() * 1e-3;
      const off = 0.002 + extra / 2 + noise * gaussian(rand);
      s.accumulate(sample(addSeconds(T0, i * 4), off, 1e-3 + extra));
      s.regress();
    }
    return s.jitterAsymmetry;
  }
  // The slope is 0.5 but the estimate stands only a few standard errors clear of zero.
  assert.ok(run(false, 1e-4) < -0.45, "chrony's rule switches on");
  assert.equal(run(true, 1e-4), 0);
  // A clear estimate switches it on for a gated source too.
  assert.ok(run(true, 2e-5) < -0.45);
});

Deno.test("best single sample minimises root distance; maxsamples < 3 selects at once", () => {
  const s = new SourceStats(OPTS);
  for (let i = 0; i < 8; i++) {
    const rootDisp = i === 5 ? 1e-6 : 1e-3;
    s.accumulate(sample(addSeconds(T0, i), 0, 1e-3, { rootDispersion: rootDisp }));
    s.regress();
  }
  const sel = s.selectionData(addSeconds(T0, 8))!;
  // Sample 5 is 3 s old; distance 0.5 ms + 1 µs + 3 s · skew.
  assert.ok(sel.rootDistance < 0.0006, `dist ${sel.rootDistance}`);
  const q = new SourceStats({ ...OPTS, maxSamples: 1, maxJitter: 1 });
  q.accumulate(sample(T0, 0.5));
  q.regress();
  const qs = q.selectionData(T0)!;
  assert.equal(qs.selectOk, true);
  assert.equal(qs.offset, 0.5);
  const qt = q.trackingData()!;
  assert.equal(qt.offset, 0.5);
  assert.ok(qt.offsetSd < 0.001, `offsetSd ${qt.offsetSd}`);
});

Deno.test("skew bounds the true frequency error in nearly all trials", () => {
  const rand = seededRandom(77);
  let inside = 0;
  const trials = 300;
  for (let trial = 0; trial < trials; trial++) {
    const s = new SourceStats(OPTS);
    const f = (rand() - 0.5) * 1e-4;
    for (let i = 0; i < 16; i++) {
      // Exponential queueing delay on a random path direction.
      const extra = -Math.log(Math.max(rand(), 1e-12)) * 1e-4;
      const off = 0.001 + f * i * 64 + (rand() < 0.5 ? extra / 2 : -extra / 2);
      s.accumulate(sample(addSeconds(T0, i * 64), off, 2e-4 + extra));
      s.regress();
    }
    const tr = s.trackingData()!;
    if (Math.abs(tr.frequencyPpm - f * 1e6) <= tr.skewPpm) inside++;
  }
  assert.ok(inside / trials >= 0.98, `coverage ${inside / trials}`);
});

Deno.test("dump and restore in chrony 4.3's format (SST_SaveToFile / SST_LoadFromFile)", () => {
  const rand = seededRandom(21);
  const s = new SourceStats(OPTS);
  assert.equal(s.dump(), null, "no samples: no file, as chrony");
  const last = feed(s, rand, 12, 64, 3e-6, 5e-6);
  const text = s.dump()!;
  const lines = text.trim().split("\n");
  assert.equal(lines[0], `${s.sampleCount} 0`);
  assert.match(lines[1], /^\d+\.\d{9}( -?\d\.\d{6}e[+-]\d\d){6}$/);
  const now = addSeconds(last, 1);
  const r = new SourceStats(OPTS);
  assert.equal(r.restore(lines, now, 2, 0), true);
  assert.equal(r.sampleCount, s.sampleCount);
  assert.equal(r.lastSample()!.stratum, 2);
  const a = s.predictOffset(addSeconds(last, 100));
  const b = r.predictOffset(addSeconds(last, 100));
  assert.ok(Math.abs(a - b) < 1e-8, `${a} vs ${b}`);
  // What chrony refuses: bad counts, short files, samples from the future or out of order.
  assert.equal(r.restore(["3 0", "1 2 3"], now, 2, 0), false);
  assert.equal(r.sampleCount, 0);
  assert.equal(r.restore(["x"], now, 2, 0), false);
  assert.equal(r.restore(["0 0"], now, 2, 0), false);
  assert.equal(r.restore(lines.slice(0, 3), now, 2, 0), false);
  assert.equal(r.restore(lines, addSeconds(last, -10), 2, 0), false, "future samples");
  const swapped = [lines[0], lines[2], lines[1], ...lines.slice(3)];
  assert.equal(r.restore(swapped, now, 2, 0), false, "out of order");
  const huge = [lines[0], lines[1].replace(/ \S+$/, " 1.000000e+06"), ...lines.slice(2)];
  assert.equal(r.restore(huge, now, 2, 0), false, "root dispersion of 10^6 s");
});

Deno.test("fuzz: restore never throws on random dump lines", () => {
  const rand = seededRandom(5);
  const words = ["1", "0", "64", "65", "-1", "1.5e-3", "nan", "1700000000.000000001", "x", ""];
  const s = new SourceStats(OPTS);
  for (let i = 0; i < 500; i++) {
    const lines = Array.from(
      { length: Math.floor(rand() * 5) },
      () =>
        Array.from({ length: Math.floor(rand() * 8) }, () => words[Math.floor(rand() * 10)]).join(
          " ",
        ),
    );
    const ok = s.restore(lines, 1_800_000_000n * 1_000_000_000n, 3, 0);
    assert.equal(typeof ok, "boolean");
    if (!ok) assert.equal(s.sampleCount, 0);
  }
});

Deno.test("fuzz: odd samples never produce NaN or throw", () => {
  const rand = seededRandom(99);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  for (let trial = 0; trial < 80; trial++) {
    const s = new SourceStats({ ...OPTS, precision: pick([0, 1e-9, 1e-7]) });
    let t = T0;
    for (let i = 0; i < 40; i++) {
      t = addSeconds(t, pick([1e-6, 1, 16, 1024, 1e5]));
      s.accumulate(
        sample(t, pick([0, 1e-9, -3, 1000, (rand() - 0.5) * 1e-3]), pick([0, 1e-9, 1e-3, 5])),
      );
      s.regress();
      const tr = s.trackingData()!;
      for (const v of [tr.offset, tr.offsetSd, tr.frequencyPpm, tr.skewPpm, tr.rootDispersion]) {
        assert.ok(
          Number.isFinite(v),
          `trial ${trial} sample ${i}: ${JSON.stringify({ ...tr, refTime: 0 })}`,
        );
      }
      const sel = s.selectionData(addSeconds(t, 10))!;
      assert.ok(Number.isFinite(sel.rootDistance) && Number.isFinite(sel.offset));
      assert.ok(sel.stdDev >= 1e-9);
    }
  }
});

Deno.test("delaygate statistics weight extra delay more steeply", () => {
  // Exponential extra delay split at random between the two directions: a sample's offset is
  // off by up to half its extra delay, so the fastest samples are the best ones.
  const rand = seededRandom(21);
  const opts = { ...OPTS, asymmetry: 0 };
  let chronyErr = 0;
  let gatedErr = 0;
  for (let trial = 0; trial < 200; trial++) {
    const chrony = new SourceStats(opts);
    const gated = new SourceStats({ ...opts, delayGated: true });
    for (let i = 0; i < 24; i++) {
      const extra = -1e-4 * Math.log(1 - rand());
      const up = extra * rand();
      const s = sample(addSeconds(T0, i), 0.002 + (extra - 2 * up) / 2, 1e-3 + extra);
      chrony.accumulate(s);
      chrony.regress();
      gated.accumulate(s);
      gated.regress();
    }
    chronyErr += Math.abs(chrony.trackingData()!.offset - 0.002);
    gatedErr += Math.abs(gated.trackingData()!.offset - 0.002);
  }
  assert.ok(gatedErr < 0.85 * chronyErr, `gated ${gatedErr / 200} chrony ${chronyErr / 200}`);
});

/** Offset at the newest sample of feedJitteredLine's clock. */
const JITTERED_LINE_TRUTH = 0.002 + 4e-6 * 46;

/**
 * Feeds each of `stats` the same 24 samples, one every 2 s, of a clock 4 ppm off through
 * symmetric exponential jitter (2 ms mean extra delay): each offset is off by a random share
 * of half its extra delay.
 */
function feedJitteredLine(stats: SourceStats[], rand: () => number): void {
  for (let i = 0; i < 24; i++) {
    const extra = -2e-3 * Math.log(1 - rand());
    const s = sample(
      addSeconds(T0, 2 * i),
      0.002 + 4e-6 * 2 * i + extra * (rand() - 0.5),
      1e-3 + extra,
    );
    for (const st of stats) {
      st.accumulate(s);
      st.regress();
    }
  }
}

Deno.test("a delay-gated source takes its line from the tightest samples (minimax)", () => {
  // Symmetric exponential jitter on a clock 4 ppm off: each offset is off by a random share
  // of half its extra delay. The minimax line is pinned by the fastest samples, so both its
  // offset and its frequency land closer to the truth than the weighted regression's (with
  // the steeper weights alone, and no minimax line, they were 0.80 and 0.99 of chrony's).
  const rand = seededRandom(22);
  const errs = { chronyOffset: 0, gatedOffset: 0, chronyFreq: 0, gatedFreq: 0 };
  for (let trial = 0; trial < 200; trial++) {
    const chrony = new SourceStats(OPTS);
    const gated = new SourceStats({ ...OPTS, delayGated: true });
    feedJitteredLine([chrony, gated], rand);
    const truth = JITTERED_LINE_TRUTH;
    errs.chronyOffset += Math.abs(chrony.trackingData()!.offset - truth);
    errs.gatedOffset += Math.abs(gated.trackingData()!.offset - truth);
    errs.chronyFreq += Math.abs(chrony.trackingData()!.frequencyPpm - 4);
    errs.gatedFreq += Math.abs(gated.trackingData()!.frequencyPpm - 4);
  }
  const msg = JSON.stringify(errs);
  assert.ok(errs.gatedOffset < 0.6 * errs.chronyOffset, msg);
  assert.ok(errs.gatedFreq < 0.8 * errs.chronyFreq, msg);
});

Deno.test("a delay-gated source keeps the regression's line while the asymmetry correction is on", () => {
  // The same data as above: with a (negligible) fixed asymmetry the correction is on, and the
  // offset must come from the weighted regression, clearly further from the truth than the
  // minimax line's (about 0.80 against 0.51 of chrony's error).
  const rand = seededRandom(22);
  let minimaxErr = 0;
  let regressionErr = 0;
  for (let trial = 0; trial < 200; trial++) {
    const minimax = new SourceStats({ ...OPTS, delayGated: true });
    const corrected = new SourceStats({ ...OPTS, delayGated: true, asymmetry: 1e-9 });
    feedJitteredLine([minimax, corrected], rand);
    const truth = JITTERED_LINE_TRUTH;
    minimaxErr += Math.abs(minimax.trackingData()!.offset - truth);
    regressionErr += Math.abs(corrected.trackingData()!.offset - truth);
  }
  assert.ok(regressionErr > 1.3 * minimaxErr, `regression ${regressionErr} minimax ${minimaxErr}`);
});
