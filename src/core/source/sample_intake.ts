/**
 * What a source does with a measurement that passed every test: the optional median filter
 * (the `filter` option), then the source's statistics (accumulate, regress), and the poll
 * adjustment chrony derives from how well the regression predicted it; the delay gate (source
 * option `delaygate`), which holds back a reply slower than the newest ones at short polls.
 * Also the part of the measurement context that comes from the source's options and
 * statistics.
 *
 * @module
 */
import type { SourceParams } from "../../config/model.ts";
import { type Instant, secondsBetween } from "../../base/time.ts";
import { pollAdjustment } from "../poll.ts";
import type { SourceStats } from "../sourcestats.ts";
import { adjustForClockChange, type ClockChangeEvent, type NtpSample } from "../types.ts";
import type { DelayTestInput } from "../delay_tests.ts";
import type { MeasureContext } from "./measure.ts";
import { MedianFilter } from "./sample_filter.ts";
import type { SourceContext } from "./source.ts";

/** A sample that went into the statistics, and the poll adjustment it asks for. */
export interface AcceptedSample {
  /** The (filtered) sample now in the statistics. */
  readonly sample: NtpSample;
  /** chrony's poll adjustment from the prediction error. */
  readonly pollAdjust: number;
}

/**
 * Longest time, seconds, the delay gate may hold samples back after the newest one taken: a
 * sample later than that is judged by chrony's test C alone, so the gate only works at polls
 * of 8 s and less, where samples are plentiful, and a path whose delay has grown for good (a
 * new route) still gets through. At maxpoll 2 it lets at least every third reply in (three
 * 4-s polls are 12 s and more, two less than 11, also in a log's whole seconds); with the drop
 * to minpoll below, 11 against 16 took the rate step's error from 0.57 to 0.55 of the
 * default's and asymmetric jitter's from 0.80 to 0.77 (200 seeds, docs/realtime.md).
 */
export const MAX_GATE_SPAN = 11;

/**
 * Poll adjustment for a sample after which a `delaygate` source's regression finds a change
 * of rate (SourceStats.rateChanged), at polls up to RATE_CHANGE_MAX_POLL: more than the whole
 * poll range, so the source polls at minpoll while the change is in the window, and then
 * chrony's rule (poll slower as the window fills past the poll target) brings it back. The
 * few samples on the new line come in quickly: over 200 seeds of the rate step the error went
 * from 0.77 to 0.55 of the default's (with MAX_GATE_SPAN 11), for twice the requests in that
 * run and up to 11 % more on the stable paths (docs/realtime.md).
 */
export const RATE_CHANGE_POLL_ADJ: number = -32;

/**
 * Longest poll (log2 s) at which a rate change makes a `delaygate` source poll at minpoll:
 * the polls the gate works at (8 s, below MAX_GATE_SPAN). At longer polls the drop cost 2.5-4x
 * the requests of a LAN source at polls 6-10 over 48 seeds (bench:simlongpoll), for an
 * error a third lower; there chrony's rule alone moves the poll.
 */
export const RATE_CHANGE_MAX_POLL: number = 3;

/**
 * Replies the gate compares a new one with: a reply is taken only when it is no slower than
 * the fastest of the previous GATE_REPLIES (taken or held back), as ntpd's clock filter keeps
 * the fastest of its last 8.
 */
export const GATE_REPLIES = 8;

/**
 * Fewest samples the regression must hold before the gate acts: after start-up, and after a
 * rate change cut the window, every reply feeds it until the frequency is known again.
 */
export const GATE_MIN_SAMPLES = 8;

/** A source's filter, its newest accepted sample time and its delay gate. */
export class SampleIntake {
  readonly #stats: SourceStats;
  readonly #filter = new MedianFilter();
  #lastSampleTime: Instant | null = null;
  /** Round-trip delays of the newest replies that passed chrony's tests, taken or held back. */
  #recentDelays: number[] = [];

  /** Intake into `stats`. */
  constructor(stats: SourceStats) {
    this.#stats = stats;
  }

  /** Cooked time of the newest sample that went into the statistics, or null. */
  get lastSampleTime(): Instant | null {
    return this.#lastSampleTime;
  }

  /**
   * Filters `sample` (`params.filter` > 1) and hands the result to the statistics; null
   * while the filter is still collecting. `poll` is the source's poll now (log2 seconds).
   */
  accept(
    sample: NtpSample,
    params: Readonly<SourceParams>,
    poll: number,
  ): AcceptedSample | null {
    this.#noteDelay(sample.peerDelay);
    const n = params.filter;
    const out = n !== null && n > 1 ? this.#filter.add(sample, n) : sample;
    if (out === null) return null;
    const stats = this.#stats;
    const predicted = stats.predictOffset(out.time);
    stats.accumulate(out);
    stats.regress();
    this.#lastSampleTime = out.time;
    const rateChangeDrop = params.delayGate === true && stats.rateChanged &&
      poll <= RATE_CHANGE_MAX_POLL;
    const pollAdjust = rateChangeDrop
      ? RATE_CHANGE_POLL_ADJ
      : this.#pollAdjust(out, predicted, params);
    return { sample: out, pollAdjust };
  }

  /**
   * Notes a sample the delay gate held back (it passed every chrony test) and returns the
   * poll adjustment it asks for, as if it had been taken: the gate filters samples, it does
   * not change how often the source is polled.
   */
  gated(sample: NtpSample, params: Readonly<SourceParams>): number {
    this.#noteDelay(sample.peerDelay);
    return this.#pollAdjust(sample, this.#stats.predictOffset(sample.time), params);
  }

  /** Keeps `delay` among the newest GATE_REPLIES replies' delays. */
  #noteDelay(delay: number): void {
    this.#recentDelays.push(delay);
    if (this.#recentDelays.length > GATE_REPLIES) this.#recentDelays.shift();
  }

  /** chrony's poll adjustment for `sample`, which the statistics predicted at `predicted`. */
  #pollAdjust(sample: NtpSample, predicted: number, params: Readonly<SourceParams>): number {
    const error = Math.abs(sample.offset - predicted);
    const distance = sample.peerDispersion + sample.peerDelay / 2;
    return pollAdjustment(error, distance, this.#stats.sampleCount, params.pollTarget);
  }

  /** The statistics the samples go into. */
  get stats(): SourceStats {
    return this.#stats;
  }

  /**
   * The statistics' delay-test data at `t`, with the delay gate's reference delay while the
   * gate works: the source has `delaygate`, the statistics have a regression of at least
   * GATE_MIN_SAMPLES samples, GATE_REPLIES replies have been seen, and `t` is within
   * MAX_GATE_SPAN of the newest sample taken. It also works while the jitter-asymmetry
   * correction is on: the fastest replies are the least asymmetric ones.
   */
  delayTestData(t: Instant, params: Readonly<SourceParams>): DelayTestInput | null {
    const d = this.#stats.delayTestData(t);
    if (d === null || params.delayGate !== true) return d;
    if (!this.#stats.regressionOk || this.#stats.sampleCount < GATE_MIN_SAMPLES) return d;
    const last = this.#lastSampleTime;
    if (last === null || secondsBetween(t, last) >= MAX_GATE_SPAN) return d;
    if (this.#recentDelays.length < GATE_REPLIES) return d;
    return { ...d, gateDelay: Math.min(...this.#recentDelays) };
  }

  /** Drops the filter and the newest sample time (chronyc reset sources). */
  reset(): void {
    this.#recentDelays = [];
    this.#filter.clear();
    this.#lastSampleTime = null;
  }

  /** Moves stored local timestamps onto the new clock scale after a clock change. */
  applyClockChange(change: ClockChangeEvent): void {
    this.#filter.applyClockChange(change);
    if (change.kind === "unknown" || this.#lastSampleTime === null) return;
    this.#lastSampleTime = adjustForClockChange(this.#lastSampleTime, change).instant;
  }
}

/** The measurement context a source's options, statistics and the engine's context give. */
export type SourceMeasureContext = Omit<
  MeasureContext,
  "lastRemoteTx" | "auth" | "previousExchange"
>;

/**
 * The tests' thresholds and inputs for a source with `params` whose samples go through
 * `intake` (its statistics, and the delay gate when the source has `delaygate`), on a clock
 * of `precision` seconds (maxclockerror `maxClockError` ppm), in the engine's context `ctx`.
 */
export function sourceMeasureContext(
  params: Readonly<SourceParams>,
  intake: SampleIntake,
  precision: number,
  maxClockError: number,
  ctx: SourceContext,
): SourceMeasureContext {
  return {
    localPrecision: precision,
    offsetCorrection: params.offset,
    skew: intake.stats.skew,
    maxDelay: params.maxDelay,
    maxDelayRatio: params.maxDelayRatio,
    maxDelayDevRatio: params.maxDelayDevRatio,
    maxClockError,
    delayTestData: (t) => intake.delayTestData(t, params),
    reference: ctx.reference(),
    localRefId: ctx.localRefId,
  };
}
