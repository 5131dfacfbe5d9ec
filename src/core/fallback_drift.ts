/**
 * Fallback drifts (chrony `fallbackdrift MIN MAX`): long-term averages of the frequency over
 * 2^i seconds for i in [MIN, MAX]. When the clock has been unsynchronised for 2^i seconds,
 * the reference sets the frequency to average i.
 *
 * @module
 */

/** One average. */
interface FallbackAverage {
  /** Average frequency, ppm (tempus sense). */
  freqPpm: number;
  /** Seconds of updates accumulated. */
  seconds: number;
}

/** The set of fallback drift averages. */
export class FallbackDrifts {
  /** Smallest interval index (2^min s). */
  readonly min: number;
  /** Largest interval index (2^max s). */
  readonly max: number;
  readonly #avgs: FallbackAverage[];
  #lastInterval = 0;

  /** Averages over 2^min .. 2^max seconds. */
  constructor(min: number, max: number) {
    this.min = Math.min(min, max);
    this.max = Math.max(min, max);
    this.#avgs = [];
    for (let i = this.min; i <= this.max; i++) this.#avgs.push({ freqPpm: 0, seconds: 0 });
  }

  /**
   * Adds the absolute frequency after an update `interval` seconds after the previous one.
   * Updates closer than 1 s, or more than 4x the previous interval, are ignored.
   */
  update(freqPpm: number, interval: number): void {
    const last = this.#lastInterval;
    this.#lastInterval = interval;
    if (interval < 1 || (last > 0 && interval > 4 * last)) return;
    for (let k = 0; k < this.#avgs.length; k++) {
      const span = 2 ** (this.min + k);
      const a = this.#avgs[k];
      if (a.seconds < 2 * span) {
        a.freqPpm = (a.freqPpm * a.seconds + freqPpm * interval) / (a.seconds + interval);
        a.seconds += interval;
      } else {
        const c = 1 - Math.exp(-interval / span);
        a.freqPpm += c * (freqPpm - a.freqPpm);
      }
    }
  }

  /**
   * The next fallback after `unsyncedFor` seconds without synchronisation: the smallest i
   * whose 2^i exceeds it (and is above `after`, the last one applied) and whose average spans
   * at least 2^i s, with the delay until it applies.
   */
  next(
    unsyncedFor: number,
    after = -Infinity,
  ): { index: number; delay: number; freqPpm: number } | null {
    for (let k = 0; k < this.#avgs.length; k++) {
      const span = 2 ** (this.min + k);
      if (span <= unsyncedFor || this.min + k <= after) continue;
      const a = this.#avgs[k];
      if (a.seconds < span) continue;
      return { index: this.min + k, delay: span - unsyncedFor, freqPpm: a.freqPpm };
    }
    return null;
  }

  /** The average for index i (null if out of range or empty). */
  get(i: number): number | null {
    const a = this.#avgs[i - this.min];
    return a && a.seconds > 0 ? a.freqPpm : null;
  }
}
