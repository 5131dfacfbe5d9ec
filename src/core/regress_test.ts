import assert from "node:assert/strict";
import { gaussian, seededRandom } from "../../tests/helpers/random.ts";
import {
  countRuns,
  criticalRuns,
  findBestRegression,
  findBestRobustRegression,
  median,
  multipleRegression,
  tCoefficient,
  weightedRegression,
} from "./regress.ts";

Deno.test("critical runs and t coefficients match chrony's tables", () => {
  assert.equal(criticalRuns(10), 3);
  assert.equal(criticalRuns(20), 7);
  assert.equal(criticalRuns(64), 26);
  assert.equal(criticalRuns(128), 55);
  assert.equal(criticalRuns(130), 56);
  assert.equal(tCoefficient(1), 636.6);
  assert.equal(tCoefficient(5), 6.869);
  assert.equal(tCoefficient(10), 4.587);
  assert.equal(tCoefficient(40), 3.551);
  assert.equal(tCoefficient(41), 3.5);
});

Deno.test("countRuns and median", () => {
  assert.equal(countRuns([1, 2, -1, -2, 3]), 3);
  assert.equal(countRuns([1, 0, 1]), 3);
  assert.equal(countRuns([]), 0);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

Deno.test("weighted regression recovers slope and intercept within noise", () => {
  const rand = seededRandom(1);
  for (let trial = 0; trial < 20; trial++) {
    const n = 10 + Math.floor(rand() * 50);
    const slope = (rand() - 0.5) * 1e-4;
    const intercept = (rand() - 0.5) * 1e-2;
    const sd = 1e-5;
    const x: number[] = [];
    const y: number[] = [];
    const w: number[] = [];
    for (let i = 0; i < n; i++) {
      x.push(-(n - 1 - i) * 64);
      y.push(intercept + slope * x[i] + sd * gaussian(rand));
      w.push(1 + rand());
    }
    const r = weightedRegression(x, y, w);
    assert.ok(r);
    assert.ok(Math.abs(r.slope - slope) < 6 * r.slopeSd + 1e-12, `slope ${r.slope} vs ${slope}`);
    assert.ok(Math.abs(r.intercept - intercept) < 6 * r.interceptSd, "intercept");
    assert.ok(r.variance > 0 && Math.sqrt(r.variance) < 3 * sd);
    const best = findBestRegression(x, y, w, 0, 3);
    assert.ok(best);
    assert.ok(Math.abs(best.slope - slope) < 6 * best.slopeSd + 1e-12);
    assert.equal(best.dof, n - best.start - 2);
  }
  assert.equal(weightedRegression([0, 1], [0, 1], [1, 1]), null);
});

Deno.test("runs test shortens the window after a frequency step", () => {
  const rand = seededRandom(7);
  const n = 40;
  const x: number[] = [];
  const y: number[] = [];
  const w: number[] = [];
  // Times back from the newest sample; the slope changes 20 samples before the end.
  for (let i = 0; i < n; i++) {
    const t = -(n - 1 - i) * 16;
    const tStep = -19 * 16;
    const trend = t < tStep ? 5e-6 * (t - tStep) : -5e-6 * (t - tStep);
    x.push(t);
    y.push(trend + 1e-7 * gaussian(rand));
    w.push(1);
  }
  const best = findBestRegression(x, y, w, 0, 3);
  assert.ok(best);
  assert.ok(best.start >= 18, `start ${best.start}`);
  assert.ok(Math.abs(best.slope - -5e-6) < 1e-7, `slope ${best.slope}`);
  assert.ok(best.runs > criticalRuns(n - best.start));
  assert.equal(best.rateChanged, true);
  // A steady line: no change found.
  const line = y.map((_, i) => 5e-6 * x[i] + 1e-7 * gaussian(rand));
  assert.equal(findBestRegression(x, line, w, 0, 3)?.rateChanged, false);
  // minSamples stops the shortening.
  const limited = findBestRegression(x, y, w, 0, 35);
  assert.ok(limited);
  assert.ok(limited.start <= 5);
});

Deno.test("minSpan keeps the window from being cut below a time span", () => {
  const rand = seededRandom(7);
  const n = 40;
  const x: number[] = [];
  const y: number[] = [];
  // The same bent line, as 40 samples 1/128 s apart: the runs test wants ~20 of them.
  for (let i = 0; i < n; i++) {
    const t = -(n - 1 - i) / 128;
    const tStep = -19 / 128;
    x.push(t);
    y.push((t < tStep ? 5e-4 * (t - tStep) : -5e-4 * (t - tStep)) + 1e-8 * gaussian(rand));
  }
  const w = new Array(n).fill(1);
  const free = findBestRegression(x, y, w, 0, 3);
  assert.ok(free && free.start >= 18, `start ${free?.start}`);
  // A 0.25 s floor (32 intervals) keeps at least 33 samples.
  const floored = findBestRegression(x, y, w, 0, 3, 0.25);
  assert.ok(floored);
  assert.equal(floored.start, n - 33);
  // A floor longer than the whole window keeps everything.
  assert.equal(findBestRegression(x, y, w, 0, 3, 1.0)?.start, 0);
});

Deno.test("extra samples extend the runs test", () => {
  const rand = seededRandom(3);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 24; i++) {
    x.push(-(23 - i) * 10);
    // The 12 older (extra) points bend away; the 12 newest are a clean line.
    y.push((i < 12 ? 1e-4 * (12 - i) ** 2 : 0) + 1e-7 * gaussian(rand));
  }
  const w = new Array(12).fill(1);
  const withExtra = findBestRegression(x, y, w, 12, 3);
  const withoutExtra = findBestRegression(x.slice(12), y.slice(12), w, 0, 3);
  assert.ok(withExtra && withoutExtra);
  assert.equal(withoutExtra.start, 0);
  assert.ok(withExtra.start > 0, `start ${withExtra.start}`);
});

/**
 * `n` points of y = 1e-3 + 2e-6·x1 + b2·x2 with x1 every `step` back in time, x2 uniform in
 * [0, 1 ms) and, when `noise` > 0, uniform noise of that standard deviation on y.
 */
function twoRegressorData(rand: () => number, n: number, step: number, b2: number, noise = 0) {
  const x1: number[] = [];
  const x2: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    x1.push(-i * step);
    x2.push(rand() * 1e-3);
    const e = noise > 0 ? noise * Math.sqrt(12) * (rand() - 0.5) : 0;
    y.push(1e-3 + 2e-6 * x1[i] + b2 * x2[i] + e);
  }
  return { x1, x2, y };
}

Deno.test("multiple regression recovers the second coefficient", () => {
  const { x1, x2, y } = twoRegressorData(seededRandom(11), 30, 64, -0.4);
  const exact = multipleRegression(x1, x2, y);
  assert.ok(exact !== null);
  assert.ok(Math.abs(exact.b2 - -0.4) < 1e-9);
  assert.ok(exact.sdB2 < 1e-6, `sd ${exact.sdB2}`);
  assert.equal(multipleRegression(x1.slice(0, 3), x2.slice(0, 3), y.slice(0, 3)), null);
  assert.equal(multipleRegression(x1, x1.map((v) => 2 * v), y), null);
});

Deno.test("multiple regression's standard error covers the coefficient's scatter", () => {
  const rand = seededRandom(12);
  const n = 20;
  const noise = 1e-5;
  const estimates: number[] = [];
  const errors: number[] = [];
  for (let trial = 0; trial < 400; trial++) {
    const { x1, x2, y } = twoRegressorData(rand, n, 4, 0.3, noise);
    const fit = multipleRegression(x1, x2, y);
    assert.ok(fit !== null);
    estimates.push(fit.b2);
    errors.push(fit.sdB2);
  }
  const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
  const scatter = Math.sqrt(
    estimates.reduce((a, b) => a + (b - mean) ** 2, 0) / (estimates.length - 1),
  );
  const typical = Math.sqrt(errors.reduce((a, b) => a + b * b, 0) / errors.length);
  assert.ok(Math.abs(mean - 0.3) < 0.01, `mean ${mean}`);
  // The standard error agrees with the scatter over trials within 15 %.
  assert.ok(Math.abs(typical / scatter - 1) < 0.15, `sd ${typical} scatter ${scatter}`);
});

Deno.test("robust regression tolerates 1/7 outliers", () => {
  const rand = seededRandom(5);
  for (let trial = 0; trial < 20; trial++) {
    const n = 14 + Math.floor(rand() * 40);
    const slope = (rand() - 0.5) * 1e-3;
    const intercept = rand() - 0.5;
    const sd = 1e-4;
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      x.push(i * 100 + rand() * 10);
      y.push(intercept + slope * x[i] + (i % 2 ? 1 : -1) * (1e-6 + rand() * sd));
    }
    for (let j = 0; j < Math.floor(n / 7); j++) y[Math.floor(rand() * n)] += 100 * sd;
    const r = findBestRobustRegression(x, y, 1e-8);
    assert.ok(r.ok);
    assert.ok(Math.abs(r.slope - slope) < 5 * sd / 100, `slope ${r.slope} vs ${slope}`);
    const at = x[n - 1];
    assert.ok(Math.abs(r.intercept + r.slope * at - (intercept + slope * at)) < 2 * sd);
  }
});

Deno.test("robust regression: two points give the line through them, one point fails", () => {
  const r = findBestRobustRegression([0, 10], [1, 2], 1e-8);
  assert.ok(r.ok);
  assert.ok(Math.abs(r.slope - 0.1) < 1e-15 && Math.abs(r.intercept - 1) < 1e-15);
  assert.equal(findBestRobustRegression([1], [1], 1e-8).ok, false);
});

Deno.test("robust regression handles collinear points and repeated slopes", () => {
  // Exact line with one outlier: many pairs share the true slope.
  const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const y = x.map((v) => 2 + 0.5 * v);
  y[2] += 10;
  const r = findBestRobustRegression(x, y, 1e-12);
  assert.ok(r.ok);
  assert.ok(Math.abs(r.slope - 0.5) < 1e-12, `slope ${r.slope}`);
  assert.ok(Math.abs(r.intercept - 2) < 1e-12, `intercept ${r.intercept}`);
  // Many repeated slopes on both sides of the optimum.
  const x2 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const y2 = x2.map((v) => (v % 3 === 0 ? 1 : 0) + 0.25 * v);
  const r2 = findBestRobustRegression(x2, y2, 1e-12);
  const sad = (a: number, b: number) => x2.reduce((s, v, i) => s + Math.abs(y2[i] - a - b * v), 0);
  assert.ok(sad(r2.intercept, r2.slope) <= sad(0, 0.25) + 1e-12);
});
