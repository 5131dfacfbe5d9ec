/**
 * The correction rate of chrony's REF_AdjustReference: adjustments of the clock that do not
 * come from selection (the `local` refclock following its stable oscillator). An adjustment
 * is slewed no faster than the offset itself over the time since the previous adjustment
 * allows, and no faster than the last reference update's offset deviation over its update
 * interval shared among the adjustments made since that update.
 *
 * @module
 */
import { type Instant, secondsBetween } from "../base/time.ts";
import { adjustForClockChange, type ClockChangeEvent } from "./types.ts";

/** What the rate of one adjustment depends on in the reference. */
export interface AdjustmentContext {
  /** corrtimeratio. */
  corrTimeRatio: number;
  /** Standard deviation of the last reference update's offset, seconds. */
  offsetSd: number;
  /** Seconds between the last two reference updates. */
  lastUpdateInterval: number;
}

/** chrony's get_correction_rate: ratio x 0.5 x offset x interval, in seconds². */
export function correctionRateOf(ratio: number, offset: number, interval: number): number {
  return ratio * 0.5 * offset * interval;
}

/** The bookkeeping between adjustments (chrony's ref_adjustments, last_ref_adjustment). */
export class ReferenceAdjustments {
  #count = 0;
  #last: Instant;

  /** Starts counting at cooked time `now`. */
  constructor(now: Instant) {
    this.#last = now;
  }

  /** Adjustments since the last reference update. */
  get count(): number {
    return this.#count;
  }

  /** A reference update was made: the next adjustment is the first after it. */
  referenceUpdated(): void {
    this.#count = 0;
  }

  /** The correction rate (seconds²) of an adjustment by `offset` seconds at `now`. */
  nextRate(now: Instant, offset: number, ctx: AdjustmentContext): number {
    this.#count++;
    const sinceLast = Math.max(0, secondsBetween(now, this.#last));
    this.#last = now;
    const own = correctionRateOf(ctx.corrTimeRatio, Math.abs(offset), sinceLast);
    const shared = correctionRateOf(ctx.corrTimeRatio, ctx.offsetSd, ctx.lastUpdateInterval) /
      this.#count;
    return Math.max(own, shared);
  }

  /** Keeps the stored instant on the clock's scale. */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind !== "unknown") this.#last = adjustForClockChange(this.#last, change).instant;
  }
}
