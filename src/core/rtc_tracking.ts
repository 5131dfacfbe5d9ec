/**
 * The RTC drift model (chrony's rtc_linux.c, minus the device): samples of (RTC second at an
 * update interrupt, cooked system time), a robust regression of "RTC fast by" (RTC − system)
 * against RTC time giving the seconds fast at a reference time and the gain rate, the
 * measurement-period schedule, the boot-time (`-s`) decision, the initial slew after boot,
 * and the trim decision (`trimrtc`, `rtcautotrim`).
 *
 * The RTC is read only at update interrupts, when its second has just changed, so a reading
 * of R whole seconds means the RTC shows exactly R.000 at the sample's system time.
 *
 * @module
 */
import { findBestRobustRegression } from "./regress.ts";
import type { RtcReport } from "./reports.ts";
import type { RtcCoefficients } from "./rtc_file.ts";
import { addSeconds, type Instant, instantFromParts, NS_PER_SECOND } from "../base/time.ts";
import { adjustForClockChange, type ClockChangeEvent } from "./types.ts";

/** Most samples held. */
export const RTC_MAX_SAMPLES = 64;
/** Oldest samples dropped when the register is full. */
export const RTC_DISCARD_WHEN_FULL = 4;
/** Shortest measurement period, seconds. */
export const LOWEST_MEASUREMENT_PERIOD = 15;
/** Samples collected (one per second) after boot or a trim before acting. */
export const RTC_FAST_SAMPLES = 8;
/** Slope resolution of the robust regression. */
const REGRESSION_TOLERANCE = 1e-9;

/** Operating mode: normal tracking, the first samples after boot, or relocking after a trim. */
export type RtcMode = "normal" | "initial" | "aftertrim";

/** What the caller must do after a sample. */
export type RtcEvent =
  | { kind: "none" }
  /** Initial samples done: slew the system clock by `offset` (tempus sign), or nothing is known. */
  | { kind: "initialTrim"; offset: number | null }
  /** Relocked after a trim: write these coefficients to the rtcfile. */
  | { kind: "relocked"; coefficients: RtcCoefficients | null }
  /** Autotrim: set the RTC to `setRtcTo` whole seconds now. */
  | { kind: "trim"; setRtcTo: number };

interface RtcSample {
  /** RTC reading, whole Unix seconds. */
  rtc: number;
  /** Seconds added by our own trims of the RTC after this sample. */
  trim: number;
  /** Cooked system time of the update interrupt. */
  system: Instant;
}

/** Seconds the RTC reading `rtc` is ahead of `system`. */
function fastBy(rtc: number, trim: number, system: Instant): number {
  return Number(instantFromParts(rtc) - system) / 1e9 + trim;
}

/** The RTC model. */
export class RtcTracking {
  #samples: RtcSample[] = [];
  #mode: RtcMode;
  #coefsValid = false;
  #refTime = 0;
  #secondsFast = 0;
  #gainRate = 0;
  #savedGainRate = 0;
  #runs = 0;
  #samplesSinceRegression = 0;
  #skipNext = false;
  readonly #autoTrimThreshold: number;
  readonly #fileCoefficients: RtcCoefficients | null;

  /**
   * `fileCoefficients`: what the rtcfile held at start (used by the initial trim);
   * `initial`: start in the boot mode (chrony's RTC_TimeInit with `rtcfile`);
   * `autoTrimThreshold`: rtcautotrim seconds (0 = off).
   */
  constructor(
    opts: {
      fileCoefficients?: RtcCoefficients | null;
      initial?: boolean;
      autoTrimThreshold?: number;
    } = {},
  ) {
    this.#fileCoefficients = opts.fileCoefficients ?? null;
    this.#mode = opts.initial ? "initial" : "normal";
    this.#autoTrimThreshold = opts.autoTrimThreshold ?? 0;
  }

  /** Current mode. */
  get mode(): RtcMode {
    return this.#mode;
  }

  /** Samples held. */
  get sampleCount(): number {
    return this.#samples.length;
  }

  /** Seconds the RTC is fast of system time at the reference time. */
  get secondsFast(): number {
    return this.#secondsFast;
  }

  /** Seconds the RTC gains per RTC second (fraction). */
  get gainRate(): number {
    return this.#gainRate;
  }

  /** Reference time of the coefficients (RTC Unix seconds). */
  get refTime(): number {
    return this.#refTime;
  }

  /** Seconds until the next measurement: 1 in the fast modes, else chrony's schedule. */
  measurementPeriod(): number {
    if (this.#mode !== "normal") return 1;
    // The period doubles at 4, 6, 10 and 14 samples.
    const doublings = [4, 6, 10, 14].filter((n) => this.#samples.length >= n).length;
    return LOWEST_MEASUREMENT_PERIOD * 2 ** doublings;
  }

  /**
   * One update interrupt: the RTC showed `rtcSeconds` (whole Unix seconds) at cooked system
   * time `system`. `synchronised` (our stratum < 16) gates the autotrim.
   */
  addSample(rtcSeconds: number, system: Instant, synchronised = false): RtcEvent {
    if (this.#skipNext) {
      // The first sample after the initial slew is not yet corrected for it.
      this.#skipNext = false;
      return { kind: "none" };
    }
    if (this.#samples.length >= RTC_MAX_SAMPLES) {
      this.#samples.splice(0, RTC_DISCARD_WHEN_FULL);
    }
    const last = this.#samples[this.#samples.length - 1];
    if (last !== undefined && last.rtc - rtcSeconds >= last.trim) {
      // The RTC went back (not by our trim): the history is useless.
      this.#samples = [];
    }
    this.#samples.push({ rtc: rtcSeconds, trim: 0, system });
    this.#samplesSinceRegression++;

    switch (this.#mode) {
      case "normal": {
        this.#regress();
        this.#samplesSinceRegression = 0;
        const trim = this.#maybeAutoTrim(system, synchronised);
        return trim ?? { kind: "none" };
      }
      case "initial":
        if (this.#samplesSinceRegression < RTC_FAST_SAMPLES) return { kind: "none" };
        return this.#initialTrim();
      case "aftertrim":
        if (this.#samplesSinceRegression < RTC_FAST_SAMPLES) return { kind: "none" };
        return this.#relock();
    }
  }

  /** Runs the robust regression; keeps the old coefficients when it cannot. */
  #regress(): boolean {
    const n = this.#samples.length;
    if (n === 0) return false;
    const ref = this.#samples[n - 1].rtc;
    const x = this.#samples.map((s) => s.trim + (s.rtc - ref));
    const y = this.#samples.map((s) => fastBy(s.rtc, s.trim, s.system));
    const fit = findBestRobustRegression(x, y, REGRESSION_TOLERANCE);
    if (!fit.ok) return false;
    this.#coefsValid = true;
    this.#refTime = ref;
    this.#secondsFast = fit.intercept;
    this.#gainRate = fit.slope;
    this.#runs = fit.runs;
    if (fit.start > 0) this.#samples.splice(0, fit.start);
    return true;
  }

  #initialTrim(): RtcEvent {
    this.#regress();
    this.#samplesSinceRegression = 0;
    this.#mode = "normal";
    let offset: number | null = null;
    const file = this.#fileCoefficients;
    if (this.#coefsValid && file !== null && file.valid) {
      const predicted = file.secondsFast +
        (this.#refTime - file.refTime) * file.gainRatePpm * 1e-6;
      // The RTC is `predicted` ahead of true time and `secondsFast` ahead of the system clock.
      offset = this.#secondsFast - predicted;
    }
    this.#samples = [];
    this.#coefsValid = false;
    this.#skipNext = true;
    return { kind: "initialTrim", offset };
  }

  #relock(): RtcEvent {
    const ok = this.#regress();
    const coefficients: RtcCoefficients | null = ok
      ? {
        valid: true,
        refTime: this.#refTime,
        secondsFast: this.#secondsFast,
        gainRatePpm: this.#savedGainRate * 1e6,
      }
      : null;
    this.#coefsValid = false;
    this.#samples = [];
    this.#samplesSinceRegression = 0;
    this.#mode = "normal";
    return { kind: "relocked", coefficients };
  }

  #maybeAutoTrim(now: Instant, synchronised: boolean): RtcEvent | null {
    if (this.#mode !== "normal" || !this.#coefsValid || this.#samplesSinceRegression > 0) {
      return null;
    }
    if (this.#autoTrimThreshold <= 0 || Math.abs(this.#secondsFast) < this.#autoTrimThreshold) {
      return null;
    }
    if (!synchronised) return null;
    return this.trim(now);
  }

  /**
   * `trimrtc`: when the RTC is more than 1 s off, returns the whole seconds to set it to now
   * (the system time's seconds: the RTC then ticks R+1 about half a second later), and starts
   * relocking with fast samples. Returns null when no trim is needed.
   */
  trim(now: Instant): { kind: "trim"; setRtcTo: number } | null {
    this.#savedGainRate = this.#gainRate;
    if (!this.#coefsValid || Math.abs(this.#secondsFast) <= 1.0) return null;
    const seconds = now / NS_PER_SECOND;
    const nanos = Number(now - seconds * NS_PER_SECOND);
    this.#samples = [];
    this.#mode = "aftertrim";
    this.#samplesSinceRegression = 0;
    // Estimate in case the file is written during the fast sampling.
    this.#secondsFast = -nanos / 1e9 + 0.5;
    this.#refTime = Number(seconds);
    return { kind: "trim", setRtcTo: Number(seconds) };
  }

  /** The coefficients to write to the rtcfile, or null when there are none (keep the file). */
  coefficients(): RtcCoefficients | null {
    if (!this.#coefsValid) return null;
    return {
      valid: true,
      refTime: this.#refTime,
      secondsFast: this.#secondsFast,
      gainRatePpm: this.#gainRate * 1e6,
    };
  }

  /** chronyc `rtcdata`. */
  report(): RtcReport {
    const n = this.#samples.length;
    const span = n > 1
      ? (this.#samples[n - 1].rtc - this.#samples[0].rtc) +
        Math.trunc(this.#samples[n - 1].trim - this.#samples[0].trim)
      : 0;
    return {
      refTime: instantFromParts(this.#refTime),
      samples: n,
      runs: this.#runs,
      spanSeconds: span,
      rtcSecondsFast: this.#secondsFast,
      rtcGainRatePpm: this.#gainRate * 1e6,
    };
  }

  /**
   * Corrects samples and coefficients after a system clock change (the RTC is unaffected, so
   * "RTC fast by" changes the other way); an unknown step drops the samples.
   */
  applyClockChange(change: ClockChangeEvent): void {
    if (change.kind === "unknown") {
      this.#samples = [];
      return;
    }
    for (const s of this.#samples) s.system = adjustForClockChange(s.system, change).instant;
    if (this.#coefsValid) {
      // System time of the reference: when the RTC read refTime.
      const refSystem = addSeconds(instantFromParts(this.#refTime), -this.#secondsFast);
      const { shift } = adjustForClockChange(refSystem, change);
      this.#secondsFast -= shift;
      this.#gainRate -= change.dfreq * (1 - this.#gainRate);
    }
  }
}

/** Inputs of the boot-time (`-s`) decision. */
export interface PreInitInput {
  /** RTC reading, whole Unix seconds. */
  rtcSeconds: number;
  /**
   * True when the reading was taken at an update interrupt (the RTC shows exactly
   * `rtcSeconds`); false for an arbitrary read, where half a second is added on average.
   */
  atUpdateEdge?: boolean;
  /** Coefficients from the rtcfile, or null. */
  coefficients: RtcCoefficients | null;
  /** The system time now (when the RTC was read). */
  now: Instant;
  /** Modification time of the driftfile, or null. */
  driftFileMtime: Instant | null;
}

/** Outcome of the boot-time decision. */
export type PreInitDecision =
  | { step: true; newTime: Instant; offset: number; predictedError: number }
  | {
    step: false;
    reason: "small" | "before-driftfile";
    newTime: Instant;
    offset: number;
    predictedError: number;
  };

/**
 * chrony's RTC_Linux_TimePreInit: the system time should be the RTC time (plus half a second
 * for an arbitrary read) minus the error predicted from the rtcfile. Step only when that
 * differs from now by at least 1 s, and never to a time before the driftfile's modification.
 * `offset` is newTime − now in seconds (the step to apply).
 */
export function preInitDecision(input: PreInitInput): PreInitDecision {
  const c = input.coefficients;
  const predictedError = c !== null && c.valid
    ? c.secondsFast + (input.rtcSeconds - c.refTime) * c.gainRatePpm * 1e-6
    : 0;
  const base = addSeconds(instantFromParts(input.rtcSeconds), input.atUpdateEdge ? 0 : 0.5);
  const newTime = addSeconds(base, -predictedError);
  const offset = Number(newTime - input.now) / 1e9;
  if (
    input.driftFileMtime !== null && newTime / NS_PER_SECOND < input.driftFileMtime / NS_PER_SECOND
  ) {
    return { step: false, reason: "before-driftfile", newTime, offset, predictedError };
  }
  if (Math.abs(offset) < 1.0) {
    return { step: false, reason: "small", newTime, offset, predictedError };
  }
  return { step: true, newTime, offset, predictedError };
}

/**
 * Without a usable RTC, `-s` still refuses to run with a clock that is behind the last
 * driftfile update: returns the step (seconds, > 0) to the driftfile's modification time when
 * that is in the future, else null (chrony's fallback in main.c).
 */
export function driftFilePreInit(now: Instant, driftFileMtime: Instant | null): number | null {
  if (driftFileMtime === null || driftFileMtime <= now) return null;
  return Number(driftFileMtime - now) / 1e9;
}
