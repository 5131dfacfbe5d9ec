/**
 * The local clock as the engine sees it (chrony's local.c plus the offset register of
 * sys_generic.c): raw time from the driver, cooked time = raw + the correction still to be
 * slewed in, an offset register slewed out by running the clock faster or slower, the
 * absolute frequency, steps, and the observer list that keeps stored timestamps right.
 *
 * Frequencies follow the tempus sense (ppm > 0 makes the clock faster); offsets are
 * reference minus local (> 0: the clock is behind and must move forward).
 *
 * @module
 */
import type { ClockDriver, TimerHandle, TimerPort } from "../base/ports.ts";
import type { ClockChangeEvent } from "./types.ts";
import type { Instant } from "../base/time.ts";

/** Shortest slew of an offset, seconds (chrony MIN_SLEW_DURATION). */
export const MIN_SLEW_DURATION = 1.0;
/** Longest slew of an offset, seconds (chrony MAX_SLEW_DURATION). */
export const MAX_SLEW_DURATION = 10000.0;
/** Default largest slew rate, ppm (chrony maxslewrate: 1e6/12). */
export const DEFAULT_MAX_SLEW_RATE = 1e6 / 12;
/** Smallest unexplained jump of the raw clock reported as a time jump, seconds. */
export const JUMP_DETECT_THRESHOLD = 10;
/** Offsets smaller than this (seconds) are treated as fully corrected. */
const NEGLIGIBLE_OFFSET = 1e-12;

/** Options of a LocalClock. */
export interface LocalClockOptions {
  /** Largest slew rate, ppm (maxslewrate). */
  maxSlewRate?: number;
  /** Largest absolute frequency, ppm (maxdrift); also limited by the driver. */
  maxDrift?: number;
  /** Clock precision in seconds (clockprecision); measured when absent. */
  precision?: number | null;
  /** Measures the precision in seconds when none is given (default: driver reads). */
  measurePrecision?: () => number;
  /** Starting absolute frequency in ppm (e.g. from the driftfile); default: the driver's. */
  initialFrequencyPpm?: number | null;
  /**
   * How early the timer of a fast slew (above FAST_SLEW_RATE) is set, seconds; the rest is
   * then slewed in over MIN_SLEW_DURATION (tempus addition). Real timers can fire late (Deno's
   * event loop at start-up: ~11 ms), and a late end overshoots by rate x lateness (330 us at
   * 30 000 ppm). Default 0: the slew ends on its timer, as chrony's (and the simulator's
   * exact timers).
   */
  slewTimerMargin?: number;
}

/** Slew rate above which `slewTimerMargin` applies, fraction (1000 ppm). */
export const FAST_SLEW_RATE = 1e-3;
/** The margin the daemon uses with real timers, seconds. */
export const REAL_TIMER_SLEW_MARGIN = 0.05;

/** A listener of clock changes. */
export type ClockObserver = (change: ClockChangeEvent) => void;

/** Clamps `v` to [lo, hi]. */
function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The disciplined local clock over a ClockDriver and a TimerPort.
 *
 * The offset register holds the correction not yet applied. It is slewed out by adding a
 * slew frequency `s` (fraction) to the base frequency: the driver runs at
 * `(1 + base)(1 + s) - 1`, so relative to a clock at the base frequency it gains `s` per
 * second. A timer at the expected end of the slew reduces the register by what was
 * applied and starts the next slew.
 */
export class LocalClock {
  readonly #driver: ClockDriver;
  readonly #timers: TimerPort;
  readonly #observers: ClockObserver[] = [];
  /** Base (absolute) frequency, ppm, tempus sense. */
  #baseFreqPpm: number;
  /** Correction still to be applied at #slewStart, seconds (> 0: move forward). */
  #offsetRegister = 0;
  /** Slew frequency currently applied, fraction (> 0: gaining). */
  #slewFreq = 0;
  /** Raw instant at which the current slew segment started. */
  #slewStart: Instant;
  /** Correction rate of the current slew (seconds^2): duration = rate / |offset|. */
  #correctionRate = 0;
  #slewTimer: TimerHandle | null = null;
  /** Raw seconds the slew timer was expected to take. */
  #slewExpected = 0;
  /** Largest lateness of the slew timer observed recently, seconds. */
  #timerLateness = 0;
  /** How early a fast slew's timer is set, seconds (0: on time). */
  readonly #slewTimerMargin: number;
  /** The next slew is the tail of a fast one: over the minimum duration, whatever the rate. */
  #tail = false;
  /** Sum of the steps we made, seconds (to tell them from outside jumps). */
  #stepped = 0;
  /** Largest slew rate, ppm. */
  readonly maxSlewRate: number;
  /** Largest absolute frequency, ppm. */
  readonly maxFrequencyPpm: number;
  /** Clock precision, seconds. */
  readonly precision: number;

  /** Creates a local clock; reads the driver's current frequency as the base. */
  constructor(driver: ClockDriver, timers: TimerPort, options: LocalClockOptions = {}) {
    this.#driver = driver;
    this.#timers = timers;
    this.maxSlewRate = options.maxSlewRate ?? DEFAULT_MAX_SLEW_RATE;
    const margin = options.slewTimerMargin ?? 0;
    this.#slewTimerMargin = Number.isFinite(margin) && margin > 0 ? margin : 0;
    const driverMax = driver.maxFrequencyPpm > 0 ? driver.maxFrequencyPpm : Infinity;
    this.maxFrequencyPpm = Math.min(options.maxDrift ?? 100000, driverMax);
    this.#slewStart = driver.readRawTime();
    const given = options.precision;
    let precision = given ?? (options.measurePrecision ?? (() => this.#measurePrecision()))();
    if (!(precision > 0)) precision = 1e-9;
    this.precision = clamp(precision, 1e-9, 1.0);
    this.#baseFreqPpm = this.#limitFreq(options.initialFrequencyPpm ?? driver.readFrequencyPpm());
    this.#applyFrequency();
  }

  /** `ppm` clamped to ±maxFrequencyPpm. */
  #limitFreq(ppm: number): number {
    return clamp(ppm, -this.maxFrequencyPpm, this.maxFrequencyPpm);
  }

  /** Smallest positive difference between consecutive raw reads (chrony's measurement). */
  #measurePrecision(): number {
    let best = Infinity;
    for (let i = 0; i < 100; i++) {
      const a = this.#driver.readRawTime();
      let b = this.#driver.readRawTime();
      for (let j = 0; j < 1000 && b === a; j++) b = this.#driver.readRawTime();
      if (b > a) best = Math.min(best, Number(b - a) / 1e9);
    }
    return Number.isFinite(best) ? best : 1e-9;
  }

  /** Clock precision as log2 seconds (rounded up, as NTP packets carry it). */
  get precisionLog2(): number {
    return Math.ceil(Math.log2(this.precision));
  }

  /** The absolute (base) frequency correction, ppm, tempus sense. */
  get freqPpm(): number {
    return this.#baseFreqPpm;
  }

  /** The slew frequency currently applied on top of the base, ppm. */
  get slewFreqPpm(): number {
    return this.#slewFreq * 1e6;
  }

  /** Registers an observer of clock changes. */
  addObserver(fn: ClockObserver): void {
    this.#observers.push(fn);
  }

  /** Called after every change of the driver's frequency (slews start and end included). */
  readonly #rateObservers: (() => void)[] = [];

  /**
   * Registers `fn` to be told, after the fact, whenever the rate of cooked time against the
   * driver's clock may have changed: every frequency set, including the slew timer's, which
   * ordinary observers do not hear of. For edges that extrapolate cooked time (the XDP
   * responder's served line).
   */
  addRateObserver(fn: () => void): void {
    this.#rateObservers.push(fn);
  }

  /** The raw clock now (no correction). */
  rawNow(): Instant {
    return this.#driver.readRawTime();
  }

  /** Seconds of the register applied by the slew between #slewStart and `raw`. */
  #applied(raw: Instant): number {
    if (this.#slewFreq === 0) return 0;
    const elapsed = Number(raw - this.#slewStart) / 1e9;
    return (this.#slewFreq * elapsed) / (1 + this.#slewFreq);
  }

  /** Correction still to be applied at raw instant `raw`, seconds (cooked - raw). */
  #remainingAt(raw: Instant): number {
    return this.#offsetRegister - this.#applied(raw);
  }

  /** The correction still to be slewed in right now, seconds (cooked minus raw). */
  remainingCorrection(): number {
    return this.#remainingAt(this.#driver.readRawTime());
  }

  /** Cooked time of a raw instant: raw plus the correction remaining at that instant. */
  cook(raw: Instant): Instant {
    return raw + BigInt(Math.round(this.#remainingAt(raw) * 1e9));
  }

  /** Cooked time now. */
  cookedNow(): Instant {
    return this.cook(this.#driver.readRawTime());
  }

  #notify(change: ClockChangeEvent): void {
    for (const fn of [...this.#observers]) fn(change);
  }

  /** Folds what the current slew applied into the register; restarts (and returns) `raw`. */
  #settle(raw: Instant = this.#driver.readRawTime()): Instant {
    this.#offsetRegister -= this.#applied(raw);
    this.#slewStart = raw;
    if (Math.abs(this.#offsetRegister) < NEGLIGIBLE_OFFSET) this.#offsetRegister = 0;
    return raw;
  }

  /**
   * Temperature compensation (tempcomp, set by src/daemon/tempcomp.ts), ppm, chrony's sign:
   * the driver runs at base (1 - c 1e-6) + c (tempus sense) while the reported and learned
   * base frequency stays uncompensated, as chrony's LCL_SetTempComp.
   */
  #tempCompPpm = 0;

  /** Sets the temperature compensation in ppm (dropin: the tempcomp hook). */
  setTempComp(ppm: number): void {
    if (!Number.isFinite(ppm) || ppm === this.#tempCompPpm) return;
    this.#settle();
    this.#tempCompPpm = ppm;
    this.#applyFrequency();
  }

  /** The temperature compensation in force, ppm. */
  get tempCompPpm(): number {
    return this.#tempCompPpm;
  }

  /** Sets the driver to base + slew (multiplicatively); records the slew actually applied. */
  #applyFrequency(): void {
    const c = this.#tempCompPpm;
    const base = this.#baseFreqPpm * (1 - 1e-6 * c) + c;
    const wanted = base + this.#slewFreq * (1e6 + base);
    const applied = this.#driver.setFrequencyPpm(this.#limitFreq(wanted));
    if (Number.isFinite(applied) && this.#slewFreq !== 0) {
      this.#slewFreq = (applied - base) / (1e6 + base);
    }
    for (const fn of this.#rateObservers) fn();
  }

  /** Starts a new slew segment of the register at raw instant `raw` (chrony update_slew). */
  #updateSlew(raw: Instant): void {
    this.#settle(raw);
    if (this.#slewTimer !== null) {
      this.#timers.cancelTimer(this.#slewTimer);
      this.#slewTimer = null;
    }
    const offset = this.#offsetRegister;
    if (offset === 0) {
      this.#slewFreq = 0;
      this.#applyFrequency();
      return;
    }
    const minDuration = Math.max(MIN_SLEW_DURATION, 5 * this.#timerLateness);
    const duration = this.#tail
      ? minDuration
      : clamp(this.#correctionRate / Math.abs(offset), minDuration, MAX_SLEW_DURATION);
    this.#tail = false;
    const base = this.#baseFreqPpm;
    // Keep the total frequency within the driver's range.
    const maxUp = Math.min(this.maxSlewRate, (this.maxFrequencyPpm - base) * 1e6 / (1e6 + base)) /
      1e6;
    const maxDown = Math.min(this.maxSlewRate, (this.maxFrequencyPpm + base) * 1e6 / (1e6 + base)) /
      1e6;
    this.#slewFreq = clamp(offset / duration, -Math.max(0, maxDown), Math.max(0, maxUp));
    this.#applyFrequency();
    if (this.#slewFreq === 0) return;
    // Timers count local (raw) seconds, which run (1 + s) times faster than the base rate:
    // the register is slewed out after |R| (1 + s) / |s| of them.
    const rawDuration = Math.abs((offset * (1 + this.#slewFreq)) / this.#slewFreq);
    const rate = 1 + this.#slewFreq;
    const early = this.#slewTimerMargin > 0 && Math.abs(this.#slewFreq) > FAST_SLEW_RATE;
    const timerDuration = early
      ? rawDuration - Math.min(rawDuration / 2, this.#slewTimerMargin * rate)
      : rawDuration;
    this.#slewExpected = timerDuration;
    const started = raw;
    this.#slewTimer = this.#timers.setTimer(timerDuration, () => {
      this.#slewTimer = null;
      const now = this.#driver.readRawTime();
      const late = (Number(now - started) / 1e9 - this.#slewExpected) / rate;
      this.#timerLateness = late > 0 ? Math.min(late, 10) : 0;
      this.#tail = early;
      this.#updateSlew(now);
    });
  }

  /**
   * Adds `offset` seconds (> 0: move the clock forward) to the correction to be slewed in,
   * with the given correction rate (slew duration = correctionRate / |offset|).
   */
  accumulateOffset(offset: number, correctionRate: number): void {
    this.accumulateFrequencyAndOffset(0, offset, correctionRate);
  }

  /**
   * Changes the frequency by `dfreqPpm` relative to the current frequency (> 0: faster) and
   * adds `offset` seconds to the correction to be slewed in (chrony
   * LCL_AccumulateFrequencyAndOffset).
   */
  accumulateFrequencyAndOffset(dfreqPpm: number, offset: number, correctionRate: number): void {
    const change = this.accumulateQuietly(dfreqPpm, offset, correctionRate);
    if (change !== null) this.#notify(change);
  }

  /**
   * As `accumulateFrequencyAndOffset`, but the observers are not told (chrony
   * LCL_AccumulateFrequencyAndOffsetNoHandlers): the caller gets the change and applies it to
   * what it alone must move. Null when a value is not finite (nothing changed).
   */
  accumulateQuietly(
    dfreqPpm: number,
    offset: number,
    correctionRate: number,
  ): ClockChangeEvent | null {
    if (!Number.isFinite(dfreqPpm) || !Number.isFinite(offset)) return null;
    if (!Number.isFinite(correctionRate)) correctionRate = 0;
    const raw = this.#settle();
    const when = this.cook(raw);
    const oldBase = this.#baseFreqPpm;
    const newBase = this.#limitFreq(oldBase + dfreqPpm * (1 + oldBase / 1e6));
    this.#baseFreqPpm = newBase;
    this.#offsetRegister += offset;
    this.#correctionRate = Math.max(0, correctionRate);
    this.#updateSlew(raw);
    const dfreq = (newBase - oldBase) / (1e6 + oldBase);
    return { when, dfreq, doffset: offset, kind: "adjust" };
  }

  /** Sets the absolute frequency, ppm (tempus sense), clamped to maxdrift. */
  setAbsoluteFrequency(ppm: number): void {
    if (!Number.isFinite(ppm)) return;
    const raw = this.#settle();
    const when = this.cook(raw);
    const oldBase = this.#baseFreqPpm;
    this.#baseFreqPpm = this.#limitFreq(ppm);
    this.#updateSlew(raw);
    const dfreq = (this.#baseFreqPpm - oldBase) / (1e6 + oldBase);
    this.#notify({ when, dfreq, doffset: 0, kind: "adjust" });
  }

  /**
   * Steps the clock by `offset` seconds (> 0: forward) and drops the correction still
   * being slewed into the same step, so the raw clock ends up where the cooked clock says.
   * Observers see a cooked jump of `offset`.
   */
  step(offset: number): void {
    if (!Number.isFinite(offset)) return;
    const raw = this.#settle();
    const when = this.cook(raw);
    const total = offset + this.#offsetRegister;
    this.#offsetRegister = 0;
    this.#driver.stepBy(total);
    this.#stepped += total;
    this.#slewStart = this.#driver.readRawTime();
    this.#updateSlew(this.#slewStart);
    this.#notify({ when, dfreq: 0, doffset: offset, kind: "step" });
  }

  /** Steps out the correction still being slewed (chronyc makestep); cooked time is kept. */
  makeStepNow(): number {
    const remaining = this.remainingCorrection();
    this.step(0);
    return remaining;
  }

  /** A stamp taken when a timer is set, for {@link checkForJump}. */
  jumpStamp(): { raw: Instant; stepped: number } {
    return { raw: this.#driver.readRawTime(), stepped: this.#stepped };
  }

  /**
   * Called when a timer of `delay` local seconds set at `stamp` fires: if the raw clock moved
   * by more than JUMP_DETECT_THRESHOLD (plus 20% of the delay for rate changes) beyond the
   * delay and our own steps, something else stepped the clock (chrony sched.c). Observers
   * then get an "unknown" change. Returns the jump in seconds, or null.
   */
  checkForJump(stamp: { raw: Instant; stepped: number }, delay: number): number | null {
    const elapsed = Number(this.#driver.readRawTime() - stamp.raw) / 1e9 -
      (this.#stepped - stamp.stepped);
    const jump = elapsed - delay;
    // Symmetric, as chrony's scheduler: a kernel leap second moves the raw clock back 1 s,
    // which must not count as an outside step even when it makes a short timer's elapsed
    // time negative.
    if (Math.abs(jump) <= JUMP_DETECT_THRESHOLD + 0.2 * delay) return null;
    this.notifyUnknownStep();
    return jump;
  }

  /** Tells observers the clock jumped by an unknown amount (an outside step was seen). */
  notifyUnknownStep(): void {
    const when = this.cookedNow();
    this.#notify({ when, dfreq: 0, doffset: 0, kind: "unknown" });
  }

  /**
   * Applies a leap second of `shift` seconds (-1 inserted, +1 deleted) to the clock:
   * "kernel" when the driver already did it, "step" to step the clock at the leap, "slew" to
   * slew it out at the fastest rate. UTC itself moves with the clock here, so stored offsets
   * stay valid and observers are not told (their timestamps lose at most one second of span).
   */
  applyLeap(shift: number, how: "kernel" | "step" | "slew"): void {
    if (how === "kernel") return;
    const raw = this.#settle();
    if (how === "step") {
      this.#driver.stepBy(shift);
      this.#stepped += shift;
      this.#slewStart = this.#driver.readRawTime();
      this.#updateSlew(this.#slewStart);
    } else {
      this.#offsetRegister += shift;
      this.#correctionRate = 0;
      this.#updateSlew(raw);
    }
  }

  /**
   * Stops slewing: the timer is cancelled and the driver is left at the base frequency, so a
   * stopped engine does not leave the clock running at a slew rate. Returns the correction
   * that was still outstanding (not applied).
   */
  stop(): number {
    if (this.#slewTimer !== null) this.#timers.cancelTimer(this.#slewTimer);
    this.#slewTimer = null;
    this.#settle();
    const left = this.#offsetRegister;
    if (this.#slewFreq !== 0) {
      this.#slewFreq = 0;
      this.#applyFrequency();
    }
    return left;
  }
}
