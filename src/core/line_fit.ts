/**
 * The weighted least-squares line over a slice of points, shared by the regression
 * (regress.ts) and the rate-change test (rate_change.ts). Weights follow chrony's convention:
 * a larger weight means a less reliable point (each term is divided by its weight).
 *
 * @module
 */

/** Weighted sums of one fit over points [from, to). */
export interface LineFit {
  /** Estimated y at x = 0. */
  intercept: number;
  /** Estimated slope. */
  slope: number;
  /** Σ 1/w. */
  sumW: number;
  /** Σ (x − x̄)²/w. */
  sxx: number;
  /** Weighted mean of x. */
  meanX: number;
}

/**
 * Weighted least-squares line over points [from, to) of `x` and `y`; `w` is indexed from
 * `wOffset`, i.e. point i has weight `w[i − wOffset]`.
 */
export function fitLine(
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
  from: number,
  to: number,
  wOffset: number,
): LineFit {
  let sumW = 0;
  let sumX = 0;
  for (let i = from; i < to; i++) {
    const inv = 1 / w[i - wOffset];
    sumW += inv;
    sumX += x[i] * inv;
  }
  const meanX = sumX / sumW;
  let sy = 0;
  let sxy = 0;
  let sxx = 0;
  for (let i = from; i < to; i++) {
    const inv = 1 / w[i - wOffset];
    const dx = x[i] - meanX;
    sy += y[i] * inv;
    sxy += y[i] * dx * inv;
    sxx += dx * dx * inv;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = sy / sumW - slope * meanX;
  return { intercept, slope, sumW, sxx, meanX };
}

/** Weighted residual sum of squares of `fit` over points [from, to) (weights as in fitLine). */
export function residualSs(
  fit: LineFit,
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
  from: number,
  to: number,
  wOffset: number,
): number {
  let ss = 0;
  for (let i = from; i < to; i++) {
    const r = y[i] - fit.intercept - fit.slope * x[i];
    ss += r * r / w[i - wOffset];
  }
  return ss;
}
