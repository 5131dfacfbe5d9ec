/**
 * Manual time input (chrony's manual.c, chronyc `settime`): the operator types the true time;
 * each entry becomes a sample (cooked local time, offset). With more than one sample a robust
 * regression of offset over time gives the frequency error of the local clock. The offset
 * applied is the latest entered one (not the regression intercept), so an operator who typed
 * an outlier simply enters the time again.
 *
 * Signs: offsets are tempus offsets (true − local, > 0: the local clock is behind); the
 * frequency returned is in the tempus freqPpm sense (> 0: speed the clock up).
 *
 * @module
 */
import { findBestRobustRegression } from "./regress.ts";
import type { ManualSampleReport, ManualTimestampReport } from "./reports.ts";
import { type Instant, secondsBetween } from "../base/time.ts";
import { adjustForClockChange, type ClockChangeEvent } from "./types.ts";

/** Most samples kept; the oldest is dropped beyond this. */
export const MANUAL_MAX_SAMPLES = 16;

/** Entries closer than this to the previous one (seconds) are refused. */
export const MIN_SAMPLE_SEPARATION = 1.0;

/** Skew handed to the reference with a manual update (chrony's "all nines", as ppm). */
export const MANUAL_SKEW_PPM = 0.099999999 * 1e6;

/** Slope resolution of the robust regression (0.01 ppm). */
const REGRESSION_TOLERANCE = 1e-8;

/** What the engine applies to its reference after a manual entry. */
export interface ManualUpdate {
  /** Offset to correct, seconds (tempus sign: > 0 moves the clock forward). */
  offset: number;
  /** Frequency change, ppm, tempus sense (0 with a single sample). */
  freqPpm: number;
  /** Skew of the estimate, ppm. */
  skewPpm: number;
  /** True when the frequency came from a regression (two or more samples). */
  frequencyKnown: boolean;
}

/** Result of an entry or a deletion. */
export type ManualResult =
  | { ok: true; update: ManualUpdate; report: ManualTimestampReport }
  | { ok: false; status: "notenabled" | "badsample"; message: string };

interface ManualSample {
  when: Instant;
  offset: number;
  origOffset: number;
  residual: number;
}

/** Manual input state. */
export class ManualInput {
  #enabled: boolean;
  #samples: ManualSample[] = [];

  /** Creates the input; `enabled` mirrors the `manual` directive. */
  constructor(opts: { enabled: boolean }) {
    this.#enabled = opts.enabled;
  }

  /** True when `settime` is accepted. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Samples held. */
  get sampleCount(): number {
    return this.#samples.length;
  }

  /** `manual on`. */
  enable(): void {
    this.#enabled = true;
  }

  /** `manual off`. */
  disable(): void {
    this.#enabled = false;
  }

  /** `manual reset`: forgets all samples. */
  reset(): void {
    this.#samples = [];
  }

  /**
   * `settime`: the operator says the true time is `trueTime` at cooked local time `now`.
   * `currentFreqPpm` is the frequency correction in force (for the report's new frequency).
   */
  accept(now: Instant, trueTime: Instant, currentFreqPpm: number): ManualResult {
    if (!this.#enabled) {
      return { ok: false, status: "notenabled", message: "manual input is not enabled" };
    }
    const last = this.#samples[this.#samples.length - 1];
    if (last !== undefined && secondsBetween(now, last.when) < MIN_SAMPLE_SEPARATION) {
      return {
        ok: false,
        status: "badsample",
        message: "Entered sample was too soon after previous sample",
      };
    }
    if (this.#samples.length >= MANUAL_MAX_SAMPLES) this.#samples.shift();
    const offset = secondsBetween(trueTime, now);
    this.#samples.push({ when: now, offset, origOffset: offset, residual: 0 });
    return this.#estimate(now, offset, currentFreqPpm);
  }

  /** `manual delete N`: removes sample N and re-estimates (the update slews by the intercept). */
  delete(index: number, now: Instant, currentFreqPpm: number): ManualResult {
    if (!Number.isInteger(index) || index < 0 || index >= this.#samples.length) {
      return { ok: false, status: "badsample", message: "no such sample" };
    }
    this.#samples.splice(index, 1);
    return this.#estimate(now, null, currentFreqPpm);
  }

  #estimate(now: Instant, entered: number | null, currentFreqPpm: number): ManualResult {
    void now;
    const n = this.#samples.length;
    let intercept = 0;
    let slope = 0;
    let frequencyKnown = false;
    const newest = n > 0 ? this.#samples[n - 1].when : 0n;
    const agos = this.#samples.map((s) => secondsBetween(s.when, newest));
    if (n > 1) {
      const fit = findBestRobustRegression(
        agos,
        this.#samples.map((s) => s.offset),
        REGRESSION_TOLERANCE,
      );
      if (fit.ok) {
        intercept = fit.intercept;
        slope = fit.slope;
        frequencyKnown = true;
      }
    } else if (n === 1) {
      intercept = entered ?? 0;
    }
    for (let i = 0; i < n; i++) {
      this.#samples[i].residual = this.#samples[i].offset - (intercept + agos[i] * slope);
    }
    const offset = entered ?? intercept;
    const dfreqPpm = slope * 1e6;
    const newFreqPpm = currentFreqPpm + dfreqPpm + currentFreqPpm * dfreqPpm * 1e-6;
    return {
      ok: true,
      update: { offset, freqPpm: dfreqPpm, skewPpm: MANUAL_SKEW_PPM, frequencyKnown },
      report: { offset, dfreqPpm, newFreqPpm },
    };
  }

  /** `manual list`: the samples, oldest first. */
  list(): ManualSampleReport[] {
    return this.#samples.map((s) => ({
      when: s.when,
      slewedOffset: s.offset,
      origOffset: s.origOffset,
      residual: s.residual,
    }));
  }

  /** Corrects stored samples after a clock change; an unknown step discards them. */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") {
      this.reset();
      return;
    }
    for (const s of this.#samples) {
      const { instant, shift } = adjustForClockChange(s.when, change);
      s.when = instant;
      s.offset -= shift;
    }
  }
}
