import assert from "node:assert/strict";
import { gaussian, seededRandom } from "../../tests/helpers/random.ts";
import {
  GATED_RATE_CHANGE_TEST,
  RATE_CHANGE_TEST,
  rateChangeStart,
  rateChangeT,
} from "./rate_change.ts";
import { findBestRegression } from "./regress.ts";

/** 32 samples 16 s apart (times back from the newest, oldest first), unit weights. */
function rateSeries(
  rand: () => number,
  stepAt: number | null,
  deltaFreq: number,
  sd: number,
): { x: number[]; y: number[]; w: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 32; i++) {
    const t = (i - 31) * 16;
    x.push(t);
    const bend = stepAt !== null && i > stepAt ? deltaFreq * (t - x[stepAt]) : 0;
    y.push(1e-3 + 2e-6 * t + bend + sd * gaussian(rand));
  }
  return { x, y, w: x.map(() => 1) };
}

Deno.test("rate change: a slope change a few samples back is found at its knot", () => {
  const rand = seededRandom(11);
  for (let k = 0; k < 50; k++) {
    // 5 ppm change after sample 26: 5 samples on the new line drift up to 400 µs.
    const { x, y, w } = rateSeries(rand, 26, 5e-6, 20e-6);
    const start = rateChangeStart(x, y, w, 0, x.length, 0);
    assert.ok(start !== null, `trial ${k}: no change found`);
    assert.ok(Math.abs(start - 26) <= 2, `trial ${k}: knot at ${start}, not near 26`);
  }
});

Deno.test("rate change: a straight line with white noise almost never trips it", () => {
  const rand = seededRandom(12);
  let alarms = 0;
  for (let k = 0; k < 2000; k++) {
    const { x, y, w } = rateSeries(rand, null, 0, 20e-6);
    if (rateChangeStart(x, y, w, 0, x.length, 0) !== null) alarms++;
  }
  assert.ok(alarms <= 4, `${alarms} false alarms in 2000 stable windows`);
});

Deno.test("rate change: a long-delay outlier (large weight) does not trip it", () => {
  const rand = seededRandom(13);
  for (let k = 0; k < 50; k++) {
    const { x, y, w } = rateSeries(rand, null, 0, 20e-6);
    // The newest three samples were delayed: offsets 2 ms off, but weighted as unreliable.
    for (let i = 29; i < 32; i++) {
      y[i] += 2e-3;
      w[i] = 1e4 * 1e4;
    }
    assert.equal(rateChangeStart(x, y, w, 0, x.length, 0), null);
  }
});

Deno.test("rate change: too few points, and the window starts at the knot", () => {
  const rand = seededRandom(14);
  const { x, y, w } = rateSeries(rand, 26, 20e-6, 1e-6);
  assert.equal(rateChangeStart(x.slice(-9), y.slice(-9), w.slice(-9), 0, 9, 0), null);
  assert.ok(rateChangeT(6) > rateChangeT(30) && rateChangeT(30) > 4.42);
  // findBestRegression keeps only the points from the knot on, not the old line.
  const best = findBestRegression(x, y, w, 0, 0);
  assert.ok(best !== null);
  assert.ok(best.start >= 24 && x.length - best.start >= RATE_CHANGE_TEST.minNew);
  assert.ok(Math.abs(best.slope - 22e-6) < 1e-6, `slope ${best.slope}`);
});

Deno.test("rate change: the delaygate test declares a change on two new points", () => {
  const rand = seededRandom(15);
  let gatedFound = 0;
  let defaultFound = 0;
  for (let k = 0; k < 50; k++) {
    // 2 ppm change after sample 29: only the newest 2 samples, 32 and 64 µs off the old line.
    const { x, y, w } = rateSeries(rand, 29, 2e-6, 20e-6);
    const start = rateChangeStart(x, y, w, 0, x.length, 0, GATED_RATE_CHANGE_TEST);
    if (start !== null && Math.abs(start - 29) <= 2) gatedFound++;
    if (rateChangeStart(x, y, w, 0, x.length, 0) !== null) defaultFound++;
  }
  assert.ok(gatedFound >= 25, `found in ${gatedFound} of 50`);
  assert.ok(defaultFound <= 10, `default found in ${defaultFound}, gated in ${gatedFound}`);
  // Its price: more false alarms on a straight line than the default's 10^-5 per knot.
  let alarms = 0;
  for (let k = 0; k < 2000; k++) {
    const { x, y, w } = rateSeries(rand, null, 0, 20e-6);
    if (rateChangeStart(x, y, w, 0, x.length, 0, GATED_RATE_CHANGE_TEST) !== null) alarms++;
  }
  assert.ok(alarms > 4 && alarms < 200, `${alarms} false alarms in 2000 stable windows`);
});
