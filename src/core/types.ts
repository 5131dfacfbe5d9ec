/**
 * Data types shared between engine modules (and the simulator, daemon and server), so that
 * each module can be written and tested on its own. Signs follow time.ts.
 *
 * @module
 */
import type { LeapStatus } from "./reports.ts";
import type { Instant } from "../base/time.ts";

/**
 * RFC 5905 MAXDISP and chrony's NTP_MAX_DISPERSION, seconds: the largest root distance a
 * reply may announce (test 7) and the root dispersion announced without a reference.
 */
export const NTP_MAX_DISPERSION = 16.0;

/** One accepted NTP measurement of a source, as handed to source statistics. */
export interface NtpSample {
  /** Cooked local time of the measurement (midpoint of local transmit and receive). */
  time: Instant;
  /** Offset, seconds: reference minus local (> 0: local clock behind). */
  offset: number;
  /** Round-trip delay to the source, seconds (>= precision). */
  peerDelay: number;
  /** Dispersion of this measurement, seconds. */
  peerDispersion: number;
  /** Source's root delay plus peerDelay, seconds. */
  rootDelay: number;
  /** Source's root dispersion plus peerDispersion, seconds. */
  rootDispersion: number;
  /** Stratum of the source. */
  stratum: number;
  /** Leap status announced by the source. */
  leap: LeapStatus;
}

/**
 * A change of the local (cooked) clock, broadcast to every observer that stores local
 * timestamps (chrony's parameter-change handlers). At cooked instant `when` (old scale), the
 * cooked clock jumped forward by `doffset` seconds and from then on runs faster by `dfreq`
 * (a dimensionless fraction, e.g. 1e-6 = 1 ppm). A stored cooked instant `t` maps to
 * `t + doffset + (t - when) * dfreq` on the new scale; a stored offset (reference minus
 * local) decreases by the same amount.
 */
export interface ClockChangeEvent {
  /** Cooked time at which the change applies (old scale). */
  when: Instant;
  /** Relative frequency change (fraction, > 0: clock now faster). */
  dfreq: number;
  /** Seconds by which the cooked clock moved forward (> 0) or back (< 0). */
  doffset: number;
  /** "adjust": slew/frequency accounting; "step": a step we made; "unknown": a step seen. */
  kind: "adjust" | "step" | "unknown";
}

/**
 * Moves a stored cooked instant onto the new clock scale after a change; returns the new
 * instant and the shift in seconds (which must be subtracted from a stored offset).
 */
export function adjustForClockChange(
  t: Instant,
  change: ClockChangeEvent,
): { instant: Instant; shift: number } {
  const age = Number(t - change.when) / 1e9;
  const shift = change.doffset + age * change.dfreq;
  return { instant: t + BigInt(Math.round(shift * 1e9)), shift };
}

/** What a source's statistics say for selection at a given time. */
export interface SelectionData {
  /** Stratum of the source. */
  stratum: number;
  /** Leap status of the source. */
  leap: LeapStatus;
  /** Estimated offset now (seconds, tempus sign). */
  offset: number;
  /** Lower limit of the offset interval: offset - rootDistance. */
  lowLimit: number;
  /** Upper limit: offset + rootDistance. */
  highLimit: number;
  /** Root distance now: rootDelay/2 + rootDispersion + age * skew. */
  rootDistance: number;
  /** Standard deviation of the regression residuals, seconds. */
  stdDev: number;
  /** Seconds since the oldest sample in the window. */
  firstSampleAgo: number;
  /** Seconds since the newest sample. */
  lastSampleAgo: number;
  /** True when the statistics are good enough to select (>= minsamples etc.). */
  selectOk: boolean;
}

/** What a source's statistics say for the reference update (chrony SST_GetTrackingData). */
export interface TrackingData {
  /** Reference time of the estimate (newest sample time, cooked). */
  refTime: Instant;
  /** Estimated offset at refTime, seconds (tempus sign). */
  offset: number;
  /** Standard deviation of that offset, seconds. */
  offsetSd: number;
  /** Residual frequency, ppm, tempus sense (slope of offset over time x 1e6). */
  frequencyPpm: number;
  /** Standard deviation of the frequency, ppm. */
  frequencySdPpm: number;
  /** Skew (Student-t bound on the frequency), ppm. */
  skewPpm: number;
  /** Root delay, seconds. */
  rootDelay: number;
  /** Root dispersion, seconds. */
  rootDispersion: number;
}

/** The reference state the NTP server answers from (and `tracking` reports). */
export interface ReferenceState {
  /** True when synchronised to a source or a local reference. */
  synchronised: boolean;
  /** Leap status to announce (3 when unsynchronised). */
  leap: LeapStatus;
  /** Stratum to announce (16 when unsynchronised). */
  stratum: number;
  /** Reference ID to announce. */
  refId: number;
  /** Reference time (cooked), 0n if never. */
  refTime: Instant;
  /** Root delay, seconds. */
  rootDelay: number;
  /** Root dispersion at refTime, seconds. */
  rootDispersion: number;
  /** Dispersion growth rate since refTime (fraction/s: skew + |residual| + maxclockerror). */
  dispersionRate: number;
  /** Local clock precision, log2 seconds. */
  precisionLog2: number;
}
