/**
 * Regression weights from the samples' peer distances (0.5·delay + dispersion).
 *
 * chrony's rule (sourcestats.c SST_DoNewRegression): a sample's variance is taken as
 * `(1 + excess/sd)²` times the best sample's, where `excess` is its distance above the
 * smallest in the window and `sd = (median − min)/0.7`. On a path whose one-way delays are
 * `base + jitter·Exp`, the offset error of a sample whose round trip took `D` longer than the
 * fastest is spread evenly over ±D/2, so its standard deviation grows in proportion to the
 * excess from (nearly) zero; chrony's rule, with its floor at 1.4× the median excess, weights
 * the fastest sample only ~3× the median one where the path says it is far better.
 *
 * tempus addition ({@link delaySteepness}): how steeply the residuals of chrony's fit grow
 * with the excess distance is measured in the window itself (least squares of |residual| on
 * excess: `|r| ≈ a + b·excess`), and the weights are steepened to
 * `(1 + k·excess/sd)²` with `k = b·sd/a` (at most {@link MAX_STEEPNESS}) when that growth is
 * significant. Noise that does not grow with the delay (timestamping, an asymmetric path that
 * is not delay-correlated, a wandering oscillator) leaves k at 1, which is chrony's weighting.
 *
 * @module
 */

import { median } from "./regress.ts";

/** Ratio between the sample standard deviation and the spread of peer distances (chrony). */
export const SD_TO_DIST_RATIO = 0.7;

/** Largest steepening of chrony's delay weights. */
export const MAX_STEEPNESS = 8;

/** Fewest samples whose residuals may steepen the weights. */
export const MIN_STEEPNESS_SAMPLES = 8;

/** t statistic the |residual|-on-excess correlation must reach to steepen the weights. */
export const STEEPNESS_MIN_T = 2;

/** chrony's delay weighting of one window, with what a steeper one needs. */
export interface DelayWeights {
  /** Relative variance of each sample (≥ 1; larger = less reliable). */
  weights: number[];
  /** Smallest peer distance in the window, seconds. */
  minDistance: number;
  /** Distance above which a sample is down-weighted (min + precision), seconds. */
  threshold: number;
  /** Distance scale of the weighting, seconds. */
  sd: number;
}

/** chrony's weights for peer `distances` (seconds) with clock `precision` (seconds). */
export function chronyDelayWeights(distances: readonly number[], precision: number): DelayWeights {
  let minDistance = Infinity;
  for (const d of distances) if (d < minDistance) minDistance = d;
  const med = distances.length === 0 ? 0 : median(distances);
  let sd = (med - minDistance) / SD_TO_DIST_RATIO;
  sd = Math.max(precision, Math.min(sd, minDistance));
  if (!(sd > 0)) sd = precision > 0 ? precision : 1e-9;
  const threshold = minDistance + precision;
  return { weights: steepWeights(distances, threshold, sd, 1), minDistance, threshold, sd };
}

/** Weights `(1 + k·(d − threshold)/sd)²` for distances above `threshold`, 1 below. */
export function steepWeights(
  distances: readonly number[],
  threshold: number,
  sd: number,
  k: number,
): number[] {
  return distances.map((d) => {
    const w = d > threshold ? 1 + k * (d - threshold) / sd : 1;
    return w * w;
  });
}

/**
 * How much steeper than chrony's the weights should be: `b·sd/a` from the least-squares line
 * `|residual| ≈ a + b·excess`, clamped to [1, MAX_STEEPNESS] (MAX_STEEPNESS when the line
 * passes through or below zero), or 1 when the residuals do not grow significantly with the
 * excess distance (t statistic of the correlation below STEEPNESS_MIN_T) or there are fewer
 * than MIN_STEEPNESS_SAMPLES.
 */
export function delaySteepness(
  excess: readonly number[],
  absResiduals: readonly number[],
  sd: number,
): number {
  const m = excess.length;
  if (m < MIN_STEEPNESS_SAMPLES || absResiduals.length !== m || !(sd > 0)) return 1;
  let me = 0;
  let mr = 0;
  for (let i = 0; i < m; i++) {
    me += excess[i];
    mr += absResiduals[i];
  }
  me /= m;
  mr /= m;
  let see = 0;
  let ser = 0;
  let srr = 0;
  for (let i = 0; i < m; i++) {
    const de = excess[i] - me;
    const dr = absResiduals[i] - mr;
    see += de * de;
    ser += de * dr;
    srr += dr * dr;
  }
  if (!(see > 0) || !(srr > 0) || !(ser > 0)) return 1;
  const rho = Math.min(1, ser / Math.sqrt(see * srr));
  const t = rho >= 1 ? Infinity : rho * Math.sqrt(m - 2) / Math.sqrt(1 - rho * rho);
  if (!(t >= STEEPNESS_MIN_T)) return 1;
  const b = ser / see;
  const a = mr - b * me;
  if (!(a > 0)) return MAX_STEEPNESS;
  const k = b * sd / a;
  return Number.isFinite(k) ? Math.min(MAX_STEEPNESS, Math.max(1, k)) : MAX_STEEPNESS;
}
