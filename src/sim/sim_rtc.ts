/**
 * A simulated hardware clock (RTC) in virtual (true) time: it starts at a given reading and
 * runs at a known rate error, keeps running across a simulated power-off, shows whole seconds,
 * and can be read at its update interrupts (the instant its second changes). Setting it
 * restarts its second, like the real chip (the next tick comes 0.5 s later).
 *
 * @module
 */
import { addSeconds, type Instant, NS_PER_SECOND, secondsBetween } from "../base/time.ts";

/** Options of a simulated RTC. */
export interface SimRtcOptions {
  /** True time at which the RTC state is given. */
  start: Instant;
  /** Seconds the RTC is ahead of true time at `start` (> 0: fast). */
  offsetSeconds: number;
  /** Rate error, ppm (> 0: the RTC gains). */
  driftPpm: number;
}

/** One update interrupt: the RTC's second changed to `rtcSeconds` at true time `trueTime`. */
export interface SimRtcUpdate {
  /** The new whole-second reading (Unix seconds). */
  rtcSeconds: number;
  /** True time of the tick. */
  trueTime: Instant;
}

/** The simulated RTC. */
export class SimRtc {
  /** True time of the anchor. */
  #anchorTrue: Instant;
  /** Continuous RTC reading (Unix seconds, fractional) at the anchor. */
  #anchorReading: number;
  #rate: number;

  /** Creates the RTC. */
  constructor(opts: SimRtcOptions) {
    this.#anchorTrue = opts.start;
    this.#anchorReading = Number(opts.start / NS_PER_SECOND) +
      Number(opts.start % NS_PER_SECOND) / 1e9 + opts.offsetSeconds;
    this.#rate = 1 + opts.driftPpm * 1e-6;
  }

  /** The continuous RTC reading at a true time (what a perfect reader would see). */
  continuousReading(trueTime: Instant): number {
    return this.#anchorReading + secondsBetween(trueTime, this.#anchorTrue) * this.#rate;
  }

  /** Seconds the RTC is ahead of true time at `trueTime`. */
  errorAt(trueTime: Instant): number {
    const reading = this.continuousReading(trueTime);
    const whole = Math.floor(reading);
    const frac = reading - whole;
    const trueSeconds = Number(trueTime / NS_PER_SECOND);
    const trueFrac = Number(trueTime % NS_PER_SECOND) / 1e9;
    return (whole - trueSeconds) + (frac - trueFrac);
  }

  /** The whole-second reading at `trueTime` (RTC_RD_TIME at an arbitrary moment). */
  read(trueTime: Instant): number {
    return Math.floor(this.continuousReading(trueTime));
  }

  /** The first update interrupt strictly after `trueTime`. */
  nextUpdate(trueTime: Instant): SimRtcUpdate {
    const reading = this.continuousReading(trueTime);
    const next = Math.floor(reading) + 1;
    const wait = (next - reading) / this.#rate;
    let tick = addSeconds(trueTime, wait);
    if (tick <= trueTime) tick = trueTime + 1n;
    return { rtcSeconds: next, trueTime: tick };
  }

  /** Sets the RTC to `rtcSeconds` at `trueTime`; it ticks to rtcSeconds + 1 half a second later. */
  set(rtcSeconds: number, trueTime: Instant): void {
    this.#anchorTrue = trueTime;
    this.#anchorReading = rtcSeconds + 0.5;
  }
}
