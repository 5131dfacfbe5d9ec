/**
 * Regression helpers for source statistics, manual input and RTC tracking: weighted least
 * squares with a residual runs test that shortens the window (after the rate-change test of
 * rate_change.ts), Student-t coefficients, a two-variable regression for jitter-asymmetry
 * estimation, medians, and a robust (least-absolute-deviation) line fit.
 *
 * Weights follow chrony's convention: a larger weight means a less reliable point (each term
 * is divided by its weight).
 *
 * @module
 */

import { fitLine, type LineFit, residualSs } from "./line_fit.ts";
import { RATE_CHANGE_TEST, rateChangeStart, type RateChangeTest } from "./rate_change.ts";

/** Fewest points a regression is attempted (or shortened down to) with. */
export const MIN_SAMPLES_FOR_REGRESS = 3;

/** The runs test may look this many times further back than the regression window. */
export const REGRESS_RUNS_RATIO = 2;

/**
 * Critical number of runs of residual signs at the 5% level, indexed by the number of
 * residuals (0..130). A runs count at or below the entry fails the test.
 */
// deno-fmt-ignore
const CRITICAL_RUNS: readonly number[] = [
  0, 0, 0, 0, 0, 0, 0, 0, 2, 3,
  3, 3, 4, 4, 5, 5, 5, 6, 6, 7,
  7, 7, 8, 8, 9, 9, 9, 10, 10, 11,
  11, 11, 12, 12, 13, 13, 14, 14, 14, 15,
  15, 16, 16, 17, 17, 18, 18, 18, 19, 19,
  20, 20, 21, 21, 21, 22, 22, 23, 23, 24,
  24, 25, 25, 26, 26, 26, 27, 27, 28, 28,
  29, 29, 30, 30, 30, 31, 31, 32, 32, 33,
  33, 34, 34, 35, 35, 35, 36, 36, 37, 37,
  38, 38, 39, 39, 40, 40, 40, 41, 41, 42,
  42, 43, 43, 44, 44, 45, 45, 46, 46, 46,
  47, 47, 48, 48, 49, 49, 50, 50, 51, 51,
  52, 52, 52, 53, 53, 54, 54, 55, 55, 56,
];

/** Student-t quantile at 99.95% for 1..40 degrees of freedom. */
// deno-fmt-ignore
const T_COEFFICIENTS: readonly number[] = [
  636.6, 31.6, 12.92, 8.61, 6.869,
  5.959, 5.408, 5.041, 4.781, 4.587,
  4.437, 4.318, 4.221, 4.140, 4.073,
  4.015, 3.965, 3.922, 3.883, 3.850,
  3.819, 3.792, 3.768, 3.745, 3.725,
  3.707, 3.690, 3.674, 3.659, 3.646,
  3.633, 3.622, 3.611, 3.601, 3.591,
  3.582, 3.574, 3.566, 3.558, 3.551,
];

/**
 * The critical number of runs for `n` residuals at the 5% level (the test passes when the
 * observed runs exceed it). Beyond the table the value grows like n/2 − 1.96·√(n)/2.
 */
export function criticalRuns(n: number): number {
  if (n < 0) return 0;
  if (n < CRITICAL_RUNS.length) return CRITICAL_RUNS[n];
  return Math.floor(n / 2 + 1 - 1.645 * Math.sqrt(n - 1) / 2);
}

/** The Student-t coefficient at 99.95% for `dof` degrees of freedom (3.5 above 40). */
export function tCoefficient(dof: number): number {
  if (dof < 1) return T_COEFFICIENTS[0];
  if (dof <= T_COEFFICIENTS.length) return T_COEFFICIENTS[Math.floor(dof) - 1];
  return 3.5;
}

/** Counts runs of equal sign in a residual sequence (a zero always starts a new run). */
export function countRuns(residuals: readonly number[], from = 0, to = residuals.length): number {
  if (to - from <= 0) return 0;
  let runs = 1;
  for (let i = from + 1; i < to; i++) {
    const a = residuals[i - 1];
    const b = residuals[i];
    const same = (a < 0 && b < 0) || (a > 0 && b > 0);
    if (!same) runs++;
  }
  return runs;
}

/** The median of a list of numbers (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const k = n >> 1;
  return n % 2 === 1 ? sorted[k] : 0.5 * (sorted[k - 1] + sorted[k]);
}

/** Result of a weighted least-squares line fit y = intercept + slope·x. */
export interface WeightedRegressionResult {
  /** Estimated y at x = 0. */
  intercept: number;
  /** Estimated slope. */
  slope: number;
  /** Estimated variance of a data point (weighted average over the points). */
  variance: number;
  /** Standard deviation of the intercept. */
  interceptSd: number;
  /** Standard deviation of the slope. */
  slopeSd: number;
}

function statistics(
  fit: LineFit,
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
  from: number,
  to: number,
  wOffset: number,
): WeightedRegressionResult {
  const n = to - from;
  const ss = residualSs(fit, x, y, w, from, to, wOffset);
  const s2 = n > 2 ? ss / (n - 2) : 0;
  const slopeSd = fit.sxx > 0 ? Math.sqrt(s2 / fit.sxx) : 0;
  const a = fit.meanX * slopeSd;
  const interceptSd = Math.sqrt(s2 / fit.sumW + a * a);
  return {
    intercept: fit.intercept,
    slope: fit.slope,
    variance: s2 * n / fit.sumW,
    interceptSd,
    slopeSd,
  };
}

/**
 * Weighted least squares of `y` on `x` with weights `w` (larger = less reliable). Needs at
 * least 3 points; returns null with fewer or when all x are equal.
 */
export function weightedRegression(
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
): WeightedRegressionResult | null {
  const n = x.length;
  if (n < MIN_SAMPLES_FOR_REGRESS || y.length !== n || w.length !== n) return null;
  const fit = fitLine(x, y, w, 0, n, 0);
  if (!(fit.sxx > 0)) return null;
  return statistics(fit, x, y, w, 0, n, 0);
}

/** Result of {@link findBestRegression}. */
export interface BestRegressionResult extends WeightedRegressionResult {
  /** Index (within the regression points, excluding the extra runs points) of the first kept point. */
  start: number;
  /** Runs of residual signs among the kept points. */
  runs: number;
  /** Degrees of freedom of the kept fit (points − 2). */
  dof: number;
  /** The rate-change test found a change of slope (the window may start at it). */
  rateChanged: boolean;
}

/**
 * chrony's RGR_FindBestRegression. `x` and `y` hold `extra` older points (used only to extend
 * the runs test, up to REGRESS_RUNS_RATIO times the window) followed by the `n = w.length`
 * regression points, oldest first. The oldest regression point is dropped while the runs test
 * fails, stopping at MIN_SAMPLES_FOR_REGRESS or `minSamples` points, or (a tempus addition)
 * when dropping it would leave points spanning less than `minSpan` in x. Before the runs
 * test, {@link rateChangeStart} may start the window at the newest points at once (also a
 * tempus addition; `rateChange` sets how sensitive). Returns null with fewer than 3
 * regression points.
 */
export function findBestRegression(
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
  extra: number,
  minSamples: number,
  minSpan = 0,
  rateChange: RateChangeTest = RATE_CHANGE_TEST,
): BestRegressionResult | null {
  const n = w.length;
  if (n < MIN_SAMPLES_FOR_REGRESS || x.length !== n + extra || y.length !== n + extra) {
    return null;
  }
  const resid = new Array<number>(n + extra);
  let start = 0;
  const change = rateChangeStart(x, y, w, extra, extra + n, extra, rateChange);
  if (change !== null) {
    // Keep at least minSamples points and the span the runs test may not cut below.
    start = Math.max(0, Math.min(change - extra, n - minSamples));
    while (start > 0 && Math.abs(x[extra + n - 1] - x[extra + start]) < minSpan) start--;
  }
  for (;;) {
    const from = extra + start;
    const to = extra + n;
    const fit = fitLine(x, y, w, from, to, extra);
    if (!(fit.sxx > 0)) return null;
    const kept = n - start;
    const residFrom = Math.max(0, to - kept * REGRESS_RUNS_RATIO);
    for (let i = residFrom; i < to; i++) resid[i] = y[i] - fit.intercept - fit.slope * x[i];
    let runs = countRuns(resid, residFrom, to);
    if (
      runs > criticalRuns(to - residFrom) || kept <= MIN_SAMPLES_FOR_REGRESS ||
      kept <= minSamples || Math.abs(x[to - 1] - x[from + 1]) < minSpan
    ) {
      if (residFrom !== from) runs = countRuns(resid, from, to);
      const stats = statistics(fit, x, y, w, from, to, extra);
      return { ...stats, start, runs, dof: kept - 2, rateChanged: change !== null };
    }
    start++;
  }
}

/** The coefficient {@link multipleRegression} estimates, with its standard error. */
export interface MultipleRegressionResult {
  /** The coefficient of the second regressor. */
  b2: number;
  /** Its standard error, from the residuals (n − 3 degrees of freedom). */
  sdB2: number;
}

/**
 * Two-variable least squares y = b0 + b1·x1 + b2·x2 (unweighted); returns b2 with its
 * standard error, or null with fewer than 4 points or an ill-conditioned system (chrony's
 * RGR_MultipleRegress, which gives b2 alone).
 */
export function multipleRegression(
  x1: readonly number[],
  x2: readonly number[],
  y: readonly number[],
): MultipleRegressionResult | null {
  const n = y.length;
  if (n < 4 || x1.length !== n || x2.length !== n) return null;
  let m1 = 0;
  let m2 = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    m1 += x1[i];
    m2 += x2[i];
    my += y[i];
  }
  m1 /= n;
  m2 /= n;
  my /= n;
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let s1y = 0;
  let s2y = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x1[i] - m1;
    const b = x2[i] - m2;
    const c = y[i] - my;
    syy += c * c;
    s11 += a * a;
    s12 += a * b;
    s22 += b * b;
    s1y += a * c;
    s2y += b * c;
  }
  const det = s11 * s22 - s12 * s12;
  // Reject a (nearly) singular system: the two regressors (nearly) collinear or constant.
  if (!(s11 > 0) || !(s22 > 0) || !(Math.abs(det) > 1e-10 * s11 * s22)) return null;
  const b1 = (s22 * s1y - s12 * s2y) / det;
  const b2 = (s11 * s2y - s12 * s1y) / det;
  const rss = Math.max(0, syy - b1 * s1y - b2 * s2y);
  return { b2, sdB2: Math.sqrt(rss / (n - 3) * s11 / det) };
}

/** Result of {@link findBestRobustRegression}. */
export interface RobustRegressionResult {
  /** False with fewer than 2 points (then the other fields are 0). */
  ok: boolean;
  /** Intercept (y at x = 0). */
  intercept: number;
  /** Slope. */
  slope: number;
  /** Runs of residual signs in the kept window (0 with 2 points). */
  runs: number;
  /** Index of the first point kept after the runs test. */
  start: number;
}

/** Σ |d − median(d)| with d = y − b·x over [from, to), and that median (the best intercept). */
function absoluteDeviation(
  x: readonly number[],
  y: readonly number[],
  from: number,
  to: number,
  b: number,
): { a: number; sum: number } {
  const d: number[] = [];
  for (let i = from; i < to; i++) d.push(y[i] - b * x[i]);
  const a = median(d);
  let sum = 0;
  for (const v of d) sum += Math.abs(v - a);
  return { a, sum };
}

/**
 * The exact least-absolute-deviation line over [from, to). The best sum of absolute deviations
 * as a function of the slope (with the intercept chosen optimally, the median of y − b·x) is
 * convex and piecewise linear with its corners at the slopes through pairs of points, so a
 * binary search over the sorted pair slopes finds the minimum.
 */
function leastAbsoluteDeviationLine(
  x: readonly number[],
  y: readonly number[],
  from: number,
  to: number,
  tolerance: number,
): { a: number; b: number } {
  const slopes: number[] = [];
  for (let i = from; i < to; i++) {
    for (let j = i + 1; j < to; j++) {
      const dx = x[j] - x[i];
      if (dx !== 0) slopes.push((y[j] - y[i]) / dx);
    }
  }
  if (slopes.length === 0) return { a: median(y.slice(from, to)), b: 0 };
  // Distinct candidate slopes, ascending (equal neighbours would stall the search).
  const all = Float64Array.from(slopes).sort();
  const sorted: number[] = [];
  for (const v of all) if (sorted.length === 0 || v !== sorted[sorted.length - 1]) sorted.push(v);
  let lo = 0;
  let hi = sorted.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const f0 = absoluteDeviation(x, y, from, to, sorted[mid]).sum;
    const f1 = absoluteDeviation(x, y, from, to, sorted[mid + 1]).sum;
    if (f1 < f0) lo = mid + 1;
    else hi = mid;
    if (sorted[hi] - sorted[lo] <= tolerance) break;
  }
  const l = absoluteDeviation(x, y, from, to, sorted[lo]);
  const h = absoluteDeviation(x, y, from, to, sorted[hi]);
  return h.sum < l.sum ? { a: h.a, b: sorted[hi] } : { a: l.a, b: sorted[lo] };
}

/**
 * A robust line fit minimising the sum of absolute deviations, resistant to outliers up to
 * nearly half the points. With more than 3 points the oldest points are dropped while the
 * residual runs test fails (chrony's RGR_FindBestRobustRegression window shortening). The fit
 * is exact (the optimum over all lines through two points); `tolerance` is the slope
 * resolution below which candidate slopes are not told apart. Two points give the straight
 * line through them.
 */
export function findBestRobustRegression(
  x: readonly number[],
  y: readonly number[],
  tolerance: number,
): RobustRegressionResult {
  const n = Math.min(x.length, y.length);
  if (n < 2) return { ok: false, intercept: 0, slope: 0, runs: 0, start: 0 };
  if (n === 2) {
    const dx = x[1] - x[0];
    const slope = dx !== 0 ? (y[1] - y[0]) / dx : 0;
    return { ok: true, intercept: y[0] - slope * x[0], slope, runs: 0, start: 0 };
  }
  const tol = tolerance > 0 ? tolerance : 0;
  let start = 0;
  let runs = 0;
  for (;;) {
    const kept = n - start;
    const { a, b } = leastAbsoluteDeviationLine(x, y, start, n, tol);
    if (kept <= MIN_SAMPLES_FOR_REGRESS) {
      return { ok: true, intercept: a, slope: b, runs, start };
    }
    const resid: number[] = [];
    for (let i = start; i < n; i++) resid.push(y[i] - a - b * x[i]);
    runs = countRuns(resid);
    if (runs > criticalRuns(kept)) return { ok: true, intercept: a, slope: b, runs, start };
    start++;
  }
}
