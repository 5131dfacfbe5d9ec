/**
 * What an NTP-type source does with a good sample (chrony ntp_core.c process_sample): the
 * `filter` option's median filter, then the source's statistics (the prediction error is
 * taken before the sample goes in), and the poll adjustment chrony derives from that error.
 *
 * @module
 */
import type { SourceStats } from "../sourcestats.ts";
import type { NtpSample } from "../types.ts";
import { pollAdjustment } from "../poll.ts";
import type { MedianFilter } from "./sample_filter.ts";

/** A sample taken into the statistics and the poll adjustment it asks for. */
export interface AcceptedSample {
  /** The sample that went into the statistics (the filter's median with `filter` N > 1). */
  sample: NtpSample;
  /** Poll adjustment for the source's schedule (chrony's SRC_GetPollAdjustment). */
  pollAdjust: number;
}

/**
 * Passes `sample` through `filter` (when `filterSize` is above 1) into `stats`: the sample
 * taken and its poll adjustment, or null while the filter is still collecting.
 */
export function acceptSample(
  sample: NtpSample,
  filter: MedianFilter,
  filterSize: number | null,
  stats: SourceStats,
  pollTarget: number,
): AcceptedSample | null {
  const out = filterSize !== null && filterSize > 1 ? filter.add(sample, filterSize) : sample;
  if (out === null) return null;
  const predicted = stats.predictOffset(out.time);
  stats.accumulate(out);
  stats.regress();
  const error = Math.abs(out.offset - predicted);
  const distance = out.peerDispersion + out.peerDelay / 2;
  return {
    sample: out,
    pollAdjust: pollAdjustment(error, distance, stats.sampleCount, pollTarget),
  };
}
