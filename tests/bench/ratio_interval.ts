/**
 * How sure a set of paired runs makes a ratio: the geometric mean of per-run ratios
 * (tempus / chronyd on the same path realisation) with a 95 % confidence interval from
 * Student's t over their logarithms. Real-time runs of one scenario spread by factors of ten
 * between realisations, so a median of four says little; the interval says whether a bar
 * such as "≤ 0.8× chronyd's" is shown, refuted, or not decided by the runs made.
 *
 * @module
 */

/** Student's t, two-sided 95 % (the 97.5 % quantile), for 1–30 degrees of freedom. */
// deno-fmt-ignore
const T_975: readonly number[] = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
  2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
  2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The normal's 97.5 % quantile, for more than 30 degrees of freedom. */
const Z_975 = 1.96;

/** The geometric mean of paired ratios and its 95 % confidence interval. */
export interface RatioInterval {
  /** Number of ratios. */
  n: number;
  /** exp(mean(log ratio)). */
  geometricMean: number;
  /** Lower end of the 95 % interval (NaN with one ratio). */
  low: number;
  /** Upper end of the 95 % interval (NaN with one ratio). */
  high: number;
}

/**
 * The geometric mean of `ratios` with a 95 % interval (t over log ratios); null when there is
 * no finite positive ratio. Non-finite and non-positive ratios are left out.
 */
export function ratioInterval(ratios: readonly number[]): RatioInterval | null {
  const logs = ratios.filter((r) => Number.isFinite(r) && r > 0).map(Math.log);
  const n = logs.length;
  if (n === 0) return null;
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, geometricMean: Math.exp(mean), low: NaN, high: NaN };
  const variance = logs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const t = n - 1 <= T_975.length ? T_975[n - 2] : Z_975;
  const half = t * Math.sqrt(variance / n);
  return {
    n,
    geometricMean: Math.exp(mean),
    low: Math.exp(mean - half),
    high: Math.exp(mean + half),
  };
}

/** What an interval shows about a bar. */
export type RatioVerdict = "met" | "not met" | "undecided";

/**
 * What the interval says about a bar `limit` (a ratio the figure must not exceed): "met" when
 * the whole interval lies at or below it, "not met" when it lies above, else "undecided".
 */
export function verdictAgainst(interval: RatioInterval, limit: number): RatioVerdict {
  if (interval.high <= limit) return "met";
  if (interval.low > limit) return "not met";
  return "undecided";
}

/** "gm 0.91 (95 % CI 0.62–1.33)", or the single ratio when there is only one. */
export function formatRatioInterval(interval: RatioInterval | null, digits = 2): string {
  if (interval === null) return "-";
  const gm = interval.geometricMean.toFixed(digits);
  if (interval.n < 2) return gm;
  return `gm ${gm} (95 % CI ${interval.low.toFixed(digits)}–${interval.high.toFixed(digits)})`;
}
