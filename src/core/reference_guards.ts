/**
 * The reference's rules for a new offset, pure: makestep (step instead of slew while the step
 * limit lasts), maxchange (ignore, then exit on, too large an adjustment), chrony's frequency
 * estimate combination (get_clock_estimates) and the rate an offset is slewed out at.
 *
 * @module
 */
import type { Config } from "../config/model.ts";

/** makestep THRESHOLD LIMIT: step when |offset| > threshold, at most `limit` times (< 0: always). */
export class MakeStep {
  #threshold: number;
  #limit: number;

  /** From the configuration (none: never step). */
  constructor(cfg: Config["makeStep"]) {
    this.#threshold = cfg?.threshold ?? 0;
    this.#limit = cfg?.limit ?? 0;
  }

  /** `makestep THRESHOLD LIMIT` at run time. */
  modify(threshold: number, limit: number): void {
    this.#threshold = threshold;
    this.#limit = limit;
  }

  /** True when this update must step (uses one step of the limit). */
  shouldStep(offset: number, remaining: number): boolean {
    if (this.#limit === 0) return false;
    if (this.#limit > 0) this.#limit--;
    return Math.abs(offset + remaining) > this.#threshold;
  }
}

/** What maxchange decided about an offset. */
export type MaxChangeVerdict =
  | { ok: true }
  | { ok: false; message: string; fatal: boolean };

/** maxchange OFFSET START IGNORE. */
export class MaxChange {
  readonly #cfg: Config["maxChange"];
  #delay: number;
  #ignore: number;

  /** From the configuration (none: every offset is fine). */
  constructor(cfg: Config["maxChange"]) {
    this.#cfg = cfg;
    this.#delay = cfg ? cfg.start : -1;
    this.#ignore = cfg ? cfg.ignore : 0;
  }

  /** Checks one update's offset. */
  check(offset: number): MaxChangeVerdict {
    const mc = this.#cfg;
    if (mc === null || this.#delay < 0) return { ok: true };
    if (this.#delay > 0) {
      this.#delay--;
      return { ok: true };
    }
    if (Math.abs(offset) <= mc.offset) return { ok: true };
    const fatal = this.#ignore === 0;
    const message = `Adjustment of ${offset.toFixed(3)} seconds exceeds the allowed maximum of ${
      mc.offset.toFixed(3)
    } seconds (${fatal ? "exiting" : "ignored"})`;
    if (!fatal && this.#ignore > 0) this.#ignore--;
    return { ok: false, message, fatal };
  }
}

/**
 * Frequency gain and new skew from the previous skew e and the measured skew m
 * (chrony get_clock_estimates).
 */
export function clockEstimates(
  manual: boolean,
  measuredFreqPpm: number,
  measuredSkewPpm: number,
  previousSkewPpm: number,
  maxUpdateSkewPpm: number,
): { gain: number; freqPpm: number; skewPpm: number; residualPpm: number } {
  const e = previousSkewPpm;
  const m = measuredSkewPpm;
  let gain: number;
  if (manual) gain = 1;
  else if (m > maxUpdateSkewPpm) gain = 0;
  else gain = (3 * e * e) / (3 * e * e + m * m);
  if (!(gain >= 0)) gain = 0;
  if (gain > 1) gain = 1;
  const freq = gain * measuredFreqPpm;
  const residual = measuredFreqPpm - freq;
  const extra = Math.sqrt(freq * freq * (1 - gain) + residual * residual * gain);
  const skew = e + gain * (m - e) + extra;
  return { gain, freqPpm: freq, skewPpm: skew, residualPpm: residual };
}

/** Shortest slew of an offset as a fraction of the update interval (tempus addition). */
export const MIN_SLEW_FRACTION = 0.5;
/**
 * Longest update interval the minimum slew is taken from, seconds (tempus addition): after a
 * long gap (an intermittent reference) the first offset is a real, well-measured drift, and
 * slewing it over half of a gap of hours would keep the clock wrong for hours.
 */
export const MIN_SLEW_MAX_INTERVAL = 1024;

/**
 * The correction rate handed to the local clock with an offset: chrony's corrtimeratio times
 * half the offset's standard deviation times the update interval. tempus deviation from
 * chrony: an offset is never slewed out in less than half the update interval. chrony's rate
 * alone slews an offset of 20 standard deviations in about a second, a frequency excursion of
 * ~1000 ppm per ms; spreading it over half the interval keeps the frequency smooth (117:
 * 8.4e-4 -> 1.7e-4) at no cost in offset, and the correction is still done before the next
 * update. Not for manual input or the first update (interval 0), which correct as fast as
 * allowed.
 */
export function correctionRate(
  corrTimeRatio: number,
  offset: number,
  offsetSd: number,
  interval: number,
  manual: boolean,
): number {
  const rate = corrTimeRatio * 0.5 * offsetSd * interval;
  if (manual) return rate;
  const span = Math.min(interval, MIN_SLEW_MAX_INTERVAL);
  return Math.max(rate, Math.abs(offset) * span * MIN_SLEW_FRACTION);
}
