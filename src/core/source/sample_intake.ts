/**
 * What a source does with a measurement that passed every test: the optional median filter
 * (the `filter` option), then the source's statistics (accumulate, regress), and the poll
 * adjustment chrony derives from how well the regression predicted it. Also the part of
 * the measurement context that comes from the source's options and statistics.
 *
 * @module
 */
import type { SourceParams } from "../../config/model.ts";
import type { Instant } from "../../base/time.ts";
import { pollAdjustment } from "../poll.ts";
import type { SourceStats } from "../sourcestats.ts";
import { adjustForClockChange, type ClockChangeEvent, type NtpSample } from "../types.ts";
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

/** A source's filter and its newest accepted sample time. */
export class SampleIntake {
  readonly #stats: SourceStats;
  readonly #filter = new MedianFilter();
  #lastSampleTime: Instant | null = null;

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
   * while the filter is still collecting.
   */
  accept(sample: NtpSample, params: Readonly<SourceParams>): AcceptedSample | null {
    const n = params.filter;
    const out = n !== null && n > 1 ? this.#filter.add(sample, n) : sample;
    if (out === null) return null;
    const stats = this.#stats;
    const predicted = stats.predictOffset(out.time);
    stats.accumulate(out);
    stats.regress();
    this.#lastSampleTime = out.time;
    const error = Math.abs(out.offset - predicted);
    const distance = out.peerDispersion + out.peerDelay / 2;
    const pollAdjust = pollAdjustment(error, distance, stats.sampleCount, params.pollTarget);
    return { sample: out, pollAdjust };
  }

  /** Drops the filter and the newest sample time (chronyc reset sources). */
  reset(): void {
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
 * The tests' thresholds and inputs for a source with `params` and `stats` on a clock of
 * `precision` seconds (maxclockerror `maxClockError` ppm), in the engine's context `ctx`.
 */
export function sourceMeasureContext(
  params: Readonly<SourceParams>,
  stats: SourceStats,
  precision: number,
  maxClockError: number,
  ctx: SourceContext,
): SourceMeasureContext {
  return {
    localPrecision: precision,
    offsetCorrection: params.offset,
    skew: stats.skew,
    maxDelay: params.maxDelay,
    maxDelayRatio: params.maxDelayRatio,
    maxDelayDevRatio: params.maxDelayDevRatio,
    maxClockError,
    delayTestData: (t) => stats.delayTestData(t),
    reference: ctx.reference(),
    localRefId: ctx.localRefId,
  };
}
