/**
 * The reference's rules for a new offset, pure state machines: makestep (step instead of
 * slew while the step limit lasts), maxchange (ignore, then exit on, too large an
 * adjustment) and chrony's frequency estimate combination (get_clock_estimates).
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
