/**
 * The minimax line through points with bounded errors: the line a + b·x that minimises the
 * largest amount by which a point's residual |y − a − b·x| exceeds that point's bound h.
 *
 * An NTP sample's offset error is bounded by half its round-trip delay over the path's fixed
 * part, however the delay splits between the two directions. For errors like that, which are
 * hard-bounded and whose bound each sample reports, the line that stays closest to inside every
 * bound is pinned by the few tightest samples, and it converges far faster with more samples
 * than least squares, which averages every sample's error. A flat stretch of optimal slopes
 * (several lines inside every bound) resolves to its middle.
 *
 * @module
 */

/** A fitted line and how far it is from satisfying every bound. */
export interface MinimaxLine {
  /** The line's value at x = 0. */
  readonly intercept: number;
  /** The line's slope. */
  readonly slope: number;
  /**
   * The largest |y − a − b·x| − h over the points: zero or less when the line lies within
   * every point's bound.
   */
  readonly excess: number;
}

/** The excess at slope `b`, the best intercept there, and the sign of the excess's slope. */
interface AtSlope {
  excess: number;
  intercept: number;
  /** x of the point that sets the lowest upper bound minus that of the highest lower one. */
  gradient: number;
}

function atSlope(
  x: readonly number[],
  y: readonly number[],
  h: readonly number[],
  b: number,
): AtSlope {
  let highestLow = -Infinity;
  let lowestHigh = Infinity;
  let xLow = 0;
  let xHigh = 0;
  for (let i = 0; i < x.length; i++) {
    const u = y[i] - b * x[i];
    if (u - h[i] > highestLow) {
      highestLow = u - h[i];
      xLow = x[i];
    }
    if (u + h[i] < lowestHigh) {
      lowestHigh = u + h[i];
      xHigh = x[i];
    }
  }
  return {
    excess: (highestLow - lowestHigh) / 2,
    intercept: (highestLow + lowestHigh) / 2,
    gradient: xHigh - xLow,
  };
}

/** Halvings of the slope bracket: enough to reach a double's resolution from any bracket. */
const BISECTIONS = 200;

/**
 * The minimax line through the points (x[i], y[i]) with non-negative bounds h[i]; null when
 * the arrays differ in length or fewer than two distinct x values make a slope. The excess is
 * convex and piecewise linear in the slope, with its corners at slopes between pairs of bound
 * ends, so the optimum lies within the range of those slopes; two bisections on the sign of
 * the excess's slope find the ends of the optimal stretch, and the line takes its middle.
 */
export function minimaxLine(
  x: readonly number[],
  y: readonly number[],
  h: readonly number[],
): MinimaxLine | null {
  const n = x.length;
  if (y.length !== n || h.length !== n) return null;
  let lowest = Infinity;
  let highest = -Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = x[i] - x[j];
      if (dx === 0) continue;
      const a = (y[i] - y[j] - h[i] - h[j]) / dx;
      const b = (y[i] - y[j] + h[i] + h[j]) / dx;
      lowest = Math.min(lowest, a, b);
      highest = Math.max(highest, a, b);
    }
  }
  if (!(lowest <= highest)) return null;
  // The leftmost slope at which the excess no longer falls...
  let l = lowest;
  let r = highest;
  for (let k = 0; k < BISECTIONS; k++) {
    const m = (l + r) / 2;
    if (m === l || m === r) break;
    if (atSlope(x, y, h, m).gradient < 0) l = m;
    else r = m;
  }
  const left = r;
  // ...and the rightmost at which it does not yet rise.
  l = lowest;
  r = highest;
  for (let k = 0; k < BISECTIONS; k++) {
    const m = (l + r) / 2;
    if (m === l || m === r) break;
    if (atSlope(x, y, h, m).gradient > 0) r = m;
    else l = m;
  }
  const slope = (left + l) / 2;
  const best = atSlope(x, y, h, slope);
  return { intercept: best.intercept, slope, excess: best.excess };
}
