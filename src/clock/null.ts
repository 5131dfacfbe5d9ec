/**
 * A clock driver that controls nothing, like `chronyd -x`: the engine's frequency and steps
 * are kept as a virtual correction on top of the real CLOCK_REALTIME, integrated over
 * monotonic time. The daemon's estimate of true minus system time comes from
 * `virtualOffsetSeconds()`.
 *
 * @module
 */
import type { ClockDriver, LeapAction } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import { systemTimeSource, type TimeSource } from "./kernel_ops.ts";

/** Options of NullClockDriver. */
export interface NullClockOptions {
  /** Real clocks to build on (default: the system's). Tests inject a fake. */
  timeSource?: TimeSource;
  /** Largest |frequency| accepted, ppm (default 100 000, as the Linux driver). */
  maxFrequencyPpm?: number;
}

/** A ClockDriver that leaves the system clock alone and keeps a virtual correction. */
export class NullClockDriver implements ClockDriver {
  /** Driver name for logs. */
  readonly name = "null";
  /** No kernel to insert a leap second: leapsecmode system falls back to step. */
  readonly canSystemLeap = false;
  /** Largest |frequency| accepted, ppm. */
  readonly maxFrequencyPpm: number;

  #time: TimeSource;
  #freqPpm = 0;
  /** Correction accumulated up to #lastMono, seconds. */
  #correction = 0;
  #lastMono: bigint;
  #leap: LeapAction = "none";
  #taiOffset = 0;
  #sync = { synchronised: false, estError: 16, maxError: 16 };

  /** A driver with zero frequency and zero correction. */
  constructor(options: NullClockOptions = {}) {
    this.#time = options.timeSource ?? systemTimeSource();
    this.maxFrequencyPpm = options.maxFrequencyPpm ?? 100_000;
    this.#lastMono = this.#time.monotonic();
  }

  #advance(): void {
    const mono = this.#time.monotonic();
    this.#correction += (Number(mono - this.#lastMono) / 1e9) * this.#freqPpm * 1e-6;
    this.#lastMono = mono;
  }

  /** The total virtual correction now (frequency integrated plus steps), seconds. */
  virtualOffsetSeconds(): number {
    this.#advance();
    return this.#correction;
  }

  /** CLOCK_REALTIME plus the virtual correction. */
  readRawTime(): Instant {
    const offset = this.virtualOffsetSeconds();
    return this.#time.realtime() + BigInt(Math.round(offset * 1e9));
  }

  /** CLOCK_REALTIME instant `realtime` on the virtual clock: plus the virtual correction. */
  rawFromRealtime(realtime: Instant): Instant {
    return realtime + BigInt(Math.round(this.virtualOffsetSeconds() * 1e9));
  }

  /** The virtual frequency, ppm. */
  readFrequencyPpm(): number {
    return this.#freqPpm;
  }

  /** Sets the virtual frequency (clamped); returns it. */
  setFrequencyPpm(ppm: number): number {
    this.#advance();
    this.#freqPpm = Math.max(-this.maxFrequencyPpm, Math.min(this.maxFrequencyPpm, ppm));
    return this.#freqPpm;
  }

  /** Adds `deltaSeconds` to the virtual correction. */
  stepBy(deltaSeconds: number): void {
    this.#advance();
    this.#correction += deltaSeconds;
  }

  /** Records the leap request (nothing reaches the kernel). */
  setLeap(action: LeapAction, taiOffset?: number): void {
    this.#leap = action;
    if (taiOffset !== undefined) this.#taiOffset = taiOffset;
  }

  /** Records the sync status (nothing reaches the kernel). */
  setSyncStatus(synchronised: boolean, estErrorSeconds: number, maxErrorSeconds: number): void {
    this.#sync = { synchronised, estError: estErrorSeconds, maxError: maxErrorSeconds };
  }

  /** The last leap request and TAI offset. */
  leapState(): { action: LeapAction; taiOffset: number } {
    return { action: this.#leap, taiOffset: this.#taiOffset };
  }

  /** The last sync status handed in. */
  syncStatus(): { synchronised: boolean; estError: number; maxError: number } {
    return { ...this.#sync };
  }
}
