/**
 * Rate-change detection for the source regression (a tempus addition to chrony's runs test):
 * a two-line (hinge) fit against one line, with an F test on the residual variance, finds a
 * change of slope a few samples back so the regression window can start at it.
 *
 * Weights follow chrony's convention: a larger weight means a less reliable point.
 *
 * @module
 */

import { fitLine, residualSs } from "./line_fit.ts";

/** How sensitive the rate-change test is. */
export interface RateChangeTest {
  /** Two-sided normal quantile of the test's false-alarm rate per knot. */
  readonly z: number;
  /** Fewest points on the new line before a rate change can be declared. */
  readonly minNew: number;
  /** Fewest points on the old line before a rate change can be declared. */
  readonly minOld: number;
}

/** The test for every source: a false alarm about 10^-5 per knot, 3 points on the new line. */
export const RATE_CHANGE_TEST: RateChangeTest = { z: 4.42, minNew: 3, minOld: 6 };

/**
 * The test for a source whose slow replies the delay gate holds back (`delaygate`): its
 * samples are few and clean, so a change is declared on 2 new points at about 1 % per knot
 * (a false alarm in about 6 % of 32-sample windows, which costs a shorter window). Over 200
 * seeds of each real-time path in the simulator (docs/realtime.md), with the gate it takes
 * the rate step's RMS error from 1.04 to 0.89 of the default's, the stable paths from 9 %
 * better to 3 % worse; without the gate it costs them about 5 %.
 */
export const GATED_RATE_CHANGE_TEST: RateChangeTest = { z: 2.5, minNew: 2, minOld: 6 };

/**
 * Student-t quantile for `dof` degrees of freedom at the level of the normal quantile `z`
 * (Cornish-Fisher expansion; within a few % from 6 degrees up).
 */
export function rateChangeT(dof: number, z: number = RATE_CHANGE_TEST.z): number {
  const z3 = z * z * z;
  const z5 = z3 * z * z;
  return z + (z3 + z) / (4 * dof) + (5 * z5 + 16 * z3 + 3 * z) / (96 * dof * dof);
}

/** Weighted residual sum of squares of y = a + b·x + c·h over [from, to); NaN if singular. */
function hingeFitSs(
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
  from: number,
  to: number,
  wOffset: number,
  knot: number,
): number {
  // Normal equations of the three regressors 1, x, h = max(0, x − knot).
  let s11 = 0, s1x = 0, s1h = 0, sxx = 0, sxh = 0, shh = 0, s1y = 0, sxy = 0, shy = 0;
  const x0 = x[to - 1];
  for (let i = from; i < to; i++) {
    const v = 1 / w[i - wOffset];
    const xi = x[i] - x0;
    const hi = Math.max(0, x[i] - knot);
    s11 += v;
    s1x += v * xi;
    s1h += v * hi;
    sxx += v * xi * xi;
    sxh += v * xi * hi;
    shh += v * hi * hi;
    s1y += v * y[i];
    sxy += v * xi * y[i];
    shy += v * hi * y[i];
  }
  // Cramer's rule on the symmetric 3×3 system.
  const det = s11 * (sxx * shh - sxh * sxh) - s1x * (s1x * shh - sxh * s1h) +
    s1h * (s1x * sxh - sxx * s1h);
  if (!(Math.abs(det) > 0)) return NaN;
  const a = (s1y * (sxx * shh - sxh * sxh) - s1x * (sxy * shh - sxh * shy) +
    s1h * (sxy * sxh - sxx * shy)) / det;
  const b = (s11 * (sxy * shh - shy * sxh) - s1y * (s1x * shh - sxh * s1h) +
    s1h * (s1x * shy - sxy * s1h)) / det;
  const c = (s11 * (sxx * shy - sxh * sxy) - s1x * (s1x * shy - sxy * s1h) +
    s1y * (s1x * sxh - sxx * s1h)) / det;
  let ss = 0;
  for (let i = from; i < to; i++) {
    const r = y[i] - a - b * (x[i] - x0) - c * Math.max(0, x[i] - knot);
    ss += r * r / w[i - wOffset];
  }
  return ss;
}

/**
 * Rate-change detection on the regression residuals (a tempus addition to chrony's runs
 * test, which needs many samples on the new line before it trims the window): the window
 * [from, to) is fitted both as one line and as two lines joined at a knot (a change of
 * slope at an older point `k − 1`, the newest `test.minNew` or more points after it,
 * `test.minOld` or more before). When the best knot explains so much of the residual
 * variance that an F test (1 and m − 3 degrees of freedom) passes at the test's level, the rate
 * changed there: returns `k − 1`, the knot point, where the new window starts. Otherwise
 * returns null. The weights (larger = less reliable, from the delay) enter both fits, so a
 * delay spike alone does not trip it. `test` sets the level and the points needed on each
 * line (RATE_CHANGE_TEST by default).
 */
export function rateChangeStart(
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
  from: number,
  to: number,
  wOffset: number,
  test: RateChangeTest = RATE_CHANGE_TEST,
): number | null {
  const m = to - from;
  if (m < test.minOld + test.minNew + 1) return null;
  const line = fitLine(x, y, w, from, to, wOffset);
  if (!(line.sxx > 0)) return null;
  const ss1 = residualSs(line, x, y, w, from, to, wOffset);
  if (!(ss1 > 0)) return null;
  const t = rateChangeT(m - 3, test.z);
  const critical = t * t;
  let best: number | null = null;
  let bestF = critical;
  for (let k = to - test.minNew; k >= from + test.minOld; k--) {
    const ss2 = hingeFitSs(x, y, w, from, to, wOffset, x[k - 1]);
    if (!(ss2 > 0)) continue;
    const f = (ss1 - ss2) / (ss2 / (m - 3));
    if (f > bestF) {
      bestF = f;
      best = k - 1;
    }
  }
  return best;
}
