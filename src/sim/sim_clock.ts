/**
 * The simulated system clock of a client: a `ClockDriver` over virtual true time, modelled
 * like clknetsim's nodes with an infinite-HZ kernel (a frequency change acts at once).
 *
 * The oscillator's frequency error (a fraction, > 0: runs fast) is re-evaluated each
 * simulated second: intrinsic error + random-walk wander + sine drift + frequency steps +
 * an optional extra term. The kernel's frequency correction multiplies on top, so the clock
 * runs at `(1 + error) * (1 + correction)` seconds per true second. External steps move the
 * reading without the driver being asked. The clock records, per second, the true offset
 * (reading minus true time) and the frequency error (rate - 1) for the metrics.
 *
 * @module
 */
import type { ClockDriver, LeapAction } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import type { SimRandom } from "./prng.ts";
import type { VirtualTime } from "./virtual_time.ts";

/** A change at a given simulated second. */
export interface TimedDelta {
  /** Seconds since the start of the simulation. */
  at: number;
  /** The change (a fraction for frequency, seconds for time). */
  delta: number;
}

/** How a simulated oscillator behaves. All frequencies are fractions (1e-6 = 1 ppm). */
export interface ClockSpec {
  /** Initial error of the reading, seconds: clock minus true time (> 0: clock ahead). */
  offset?: number;
  /** Intrinsic frequency error (> 0: clock runs fast), e.g. 1e-4 = 100 ppm. */
  freq?: number;
  /** Random-walk wander: SD of the per-second frequency increment (clknetsim's sum-normal). */
  wander?: number;
  /** Sine drift (temperature-like): amplitude (fraction) and period (s), optional phase (rad). */
  sine?: { amplitude: number; period: number; phase?: number };
  /** Frequency steps (temperature jumps): `delta` added to the error from second `at`. */
  freqSteps?: TimedDelta[];
  /** External time steps: the reading jumps by `delta` seconds at second `at`. */
  steps?: TimedDelta[];
  /** An extra deterministic frequency term, a pure function of simulated seconds. */
  freqFn?: (t: number) => number;
}

/** Nanoseconds in a UTC day. */
const DAY_NS = 86_400_000_000_000n;

/** Largest |frequency correction| the simulated kernel accepts, ppm. */
export const SIM_MAX_FREQUENCY_PPM = 100_000;

/** A simulated clock over virtual time implementing `ClockDriver`. */
export class SimClock implements ClockDriver {
  /** Driver name. */
  readonly name = "sim";
  /** Largest |frequency| in ppm. */
  readonly maxFrequencyPpm: number = SIM_MAX_FREQUENCY_PPM;
  /** Offset of the reading from true time per tick (index = tick; 1 tick/s by default). */
  readonly offsets: Float64Array;
  /** Frequency error of the clock per tick, fraction (rate - 1). */
  readonly freqErrors: Float64Array;
  /** Ticks (oscillator updates and records) per simulated second. */
  readonly ticksPerSecond: number;
  /** Number of times the driver was asked to step. */
  stepCount = 0;
  /** Number of frequency settings. */
  frequencySets = 0;
  /** Leap action armed in the simulated kernel (cleared once the leap happens). */
  leap: LeapAction = "none";
  /** Leap seconds the simulated kernel has inserted (+1) or deleted (-1). */
  leapsApplied = 0;
  /**
   * The reference time scale relative to true time, seconds, as a function of simulated
   * seconds (e.g. -1 after an inserted leap second: UTC repeats a second). Recorded offsets
   * are measured against it. Null: the reference is true time.
   */
  referenceOffset: ((t: number) => number) | null = null;
  /**
   * Called after the clock's rate changes (a frequency setting, or an oscillator change
   * larger than 1e-9 relative), so timers counting local seconds can be re-planned.
   */
  onRateChange: (() => void) | null = null;
  /** Last sync status reported. */
  syncStatus: { synchronised: boolean; estError: number; maxError: number } | null = null;

  readonly #vt: VirtualTime;
  readonly #start: Instant;
  readonly #spec: ClockSpec;
  readonly #random: SimRandom | null;
  readonly #freqSteps: TimedDelta[];
  readonly #steps: TimedDelta[];
  #freqStepIdx = 0;
  #stepIdx = 0;
  #lastNs: Instant;
  #error: number;
  #walk = 0;
  #stepSum = 0;
  #oscError: number;
  #correction = 0;
  #mono = 0;
  readonly #wanderStep: number;

  /**
   * Creates the clock at true time `vt.now` (the simulation start). `seconds` sizes the
   * records; `random` drives wander (may be null when wander is 0); `ticksPerSecond`
   * (clknetsim's update rate, default 1) sets how often the oscillator is re-evaluated and
   * recorded; wander increments are scaled so the walk diffuses at the same rate per second.
   */
  constructor(
    vt: VirtualTime,
    spec: ClockSpec,
    seconds: number,
    random: SimRandom | null,
    ticksPerSecond = 1,
  ) {
    this.ticksPerSecond = ticksPerSecond;
    this.#vt = vt;
    this.#start = vt.now;
    this.#lastNs = vt.now;
    this.#spec = spec;
    this.#random = random;
    this.#error = spec.offset ?? 0;
    this.#freqSteps = [...(spec.freqSteps ?? [])].sort((a, b) => a.at - b.at);
    this.#steps = [...(spec.steps ?? [])].sort((a, b) => a.at - b.at);
    this.offsets = new Float64Array(Math.ceil(seconds * ticksPerSecond) + 1);
    this.freqErrors = new Float64Array(this.offsets.length);
    this.#wanderStep = (spec.wander ?? 0) / Math.sqrt(ticksPerSecond);
    this.#oscError = this.#evalOscillator(0);
    this.offsets[0] = this.#error;
    this.freqErrors[0] = this.rate() - 1;
  }

  /** Seconds per true second the clock runs at now. */
  rate(): number {
    return (1 + this.#oscError) * (1 + this.#correction);
  }

  /** Current error of the reading (clock minus true), seconds. */
  error(): number {
    this.#advanceTo(this.#vt.now);
    return this.#error;
  }

  /**
   * Local seconds elapsed since the start on a monotonic scale: the integral of the clock's
   * rate, unaffected by steps and leaps (what local timeouts count).
   */
  monotonic(): number {
    this.#advanceTo(this.#vt.now);
    return this.#mono;
  }

  /** The raw reading now. */
  readRawTime(): Instant {
    this.#advanceTo(this.#vt.now);
    return this.#vt.now + BigInt(Math.round(this.#error * 1e9));
  }

  /** The applied frequency correction, ppm. */
  readFrequencyPpm(): number {
    return this.#correction * 1e6;
  }

  /** Sets the frequency correction (clamped to ±100 000 ppm); acts at once. */
  setFrequencyPpm(ppm: number): number {
    this.#advanceTo(this.#vt.now);
    const applied = Math.max(-SIM_MAX_FREQUENCY_PPM, Math.min(SIM_MAX_FREQUENCY_PPM, ppm));
    const changed = applied * 1e-6 !== this.#correction;
    this.#correction = applied * 1e-6;
    this.frequencySets++;
    if (changed && this.onRateChange) this.onRateChange();
    return applied;
  }

  /** Steps the reading by `deltaSeconds`. */
  stepBy(deltaSeconds: number): void {
    this.#advanceTo(this.#vt.now);
    this.#error += deltaSeconds;
    this.stepCount++;
  }

  /**
   * Arms the simulated kernel's leap second: when the reading next crosses a UTC midnight,
   * "insert" sets it back by one second (23:59:60) and "delete" skips 23:59:59.
   */
  setLeap(action: LeapAction): void {
    this.#advanceTo(this.#vt.now);
    this.leap = action;
  }

  /** Records the reported sync status. */
  setSyncStatus(synchronised: boolean, estErrorSeconds: number, maxErrorSeconds: number): void {
    this.syncStatus = { synchronised, estError: estErrorSeconds, maxError: maxErrorSeconds };
  }

  /**
   * The update at tick `k` (true time start + k / ticksPerSecond s): integrates the error
   * up to that instant, applies external steps and re-evaluates the oscillator, then
   * records offset and frequency error at index k.
   */
  tick(k: number, atNs: Instant): void {
    this.#advanceTo(atNs);
    const t = k / this.ticksPerSecond;
    while (this.#stepIdx < this.#steps.length && this.#steps[this.#stepIdx].at <= t) {
      this.#error += this.#steps[this.#stepIdx++].delta;
    }
    if (this.#wanderStep !== 0 && this.#random) {
      this.#walk += this.#wanderStep * this.#random.normal();
    }
    const before = this.#oscError;
    this.#oscError = this.#evalOscillator(t);
    if (Math.abs(this.#oscError - before) > 1e-9 && this.onRateChange) this.onRateChange();
    if (k < this.offsets.length) {
      const ref = this.referenceOffset ? this.referenceOffset(this.secondsSinceStart(atNs)) : 0;
      this.offsets[k] = this.#error - ref;
      this.freqErrors[k] = this.rate() - 1;
    }
  }

  #evalOscillator(t: number): number {
    const s = this.#spec;
    while (
      this.#freqStepIdx < this.#freqSteps.length && this.#freqSteps[this.#freqStepIdx].at <= t
    ) {
      this.#stepSum += this.#freqSteps[this.#freqStepIdx++].delta;
    }
    let e = (s.freq ?? 0) + this.#walk + this.#stepSum;
    if (s.sine) {
      e += s.sine.amplitude * Math.sin(2 * Math.PI * t / s.sine.period + (s.sine.phase ?? 0));
    }
    if (s.freqFn) e += s.freqFn(t);
    return e;
  }

  #advanceTo(t: Instant): void {
    if (t <= this.#lastNs) return;
    const dt = Number(t - this.#lastNs) / 1e9;
    const rawBefore = this.#lastNs + BigInt(Math.round(this.#error * 1e9));
    const rate = this.rate();
    this.#error += dt * (rate - 1);
    this.#mono += dt * rate;
    this.#lastNs = t;
    if (this.leap !== "none") {
      this.#kernelLeap(rawBefore, t + BigInt(Math.round(this.#error * 1e9)));
    }
  }

  /** Applies an armed leap when the reading crossed its moment between two updates. */
  #kernelLeap(rawBefore: Instant, rawAfter: Instant): void {
    const midnight = (rawBefore / DAY_NS + 1n) * DAY_NS;
    const moment = this.leap === "insert" ? midnight : midnight - 1_000_000_000n;
    if (rawBefore < moment && rawAfter >= moment) {
      const shift = this.leap === "insert" ? -1 : 1;
      this.#error += shift;
      this.leapsApplied -= shift;
      this.leap = "none";
    }
  }

  /** Simulated seconds since the start at true time `t`. */
  secondsSinceStart(t: Instant): number {
    return Number(t - this.#start) / 1e9;
  }
}
