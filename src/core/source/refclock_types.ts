/**
 * The plain values of a reference clock source: chrony's constants, the refid as a number,
 * and the shapes of a driver's sample and of a refclocks.log record.
 *
 * @module
 */
import type { Instant } from "../../base/time.ts";
import type { LeapStatus, NtpDataReport } from "../reports.ts";

/** chrony's combine ratio of the refclock filter. */
export const REFCLOCK_COMBINE_RATIO = 0.6;

/** Largest |offset| chrony takes from a driver (UTI_IsTimeOffsetSane's bound), seconds. */
export const MAX_REFCLOCK_OFFSET = 2 ** 31 - 1;

/** A sample as a driver delivers it. */
export interface RefclockRawSample {
  /** Cooked local time at which the reference time was taken. */
  time: Instant;
  /** Reference minus local time at `time`, seconds (before the `offset` option). */
  offset: number;
  /** Leap indicator from the device: 0 none, 1 insert, 2 delete (others drop the sample). */
  leap: number;
}

/** A refclock sample (raw, from the driver) or filtered sample as refclocks.log shows it. */
export interface RefclockSampleLog {
  /** Cooked time of the sample. */
  time: Instant;
  /** Refid text. */
  refId: string;
  /** Raw sample: samples taken since the last poll (chrony's DP); null for a filtered one. */
  count: number | null;
  /** Leap status (0 none, 1 insert, 2 delete, 3 unknown). */
  leap: number;
  /** Offset given by the driver after the clock correction, seconds (raw samples only). */
  rawOffset: number;
  /** Offset after the correction and the `offset` option, seconds (tempus sign). */
  offset: number;
  /** Dispersion, seconds. */
  dispersion: number;
  /** True for a pulse (chrony's P column). */
  pulse?: boolean;
}

/** What chronyc `ntpdata` shows of a refclock (most fields make no sense for one). */
export function refclockNtpData(r: {
  refIdText: string;
  refId: number;
  leap: LeapStatus;
  stratum: number;
  poll: number;
  precision: number;
  delay: number;
  dispersion: number;
  lastSampleTime: Instant | null;
  offset: number;
  counters: { rx: number; validRx: number; goodRx: number };
}): NtpDataReport {
  return {
    remoteAddress: r.refIdText,
    remotePort: 0,
    localAddress: "0.0.0.0",
    leap: r.leap,
    version: 0,
    mode: 0,
    stratum: r.stratum,
    poll: r.poll,
    precision: Math.round(Math.log2(r.precision)),
    rootDelay: r.delay,
    rootDispersion: r.dispersion,
    refId: r.refId,
    refTime: r.lastSampleTime ?? 0n,
    offset: r.offset,
    peerDelay: r.delay,
    peerDispersion: r.dispersion,
    responseTime: 0,
    jitterAsymmetry: 0,
    tests: 0,
    interleaved: false,
    authenticated: false,
    totalTx: 0,
    totalRx: r.counters.rx,
    totalValidRx: r.counters.validRx,
    totalGoodRx: r.counters.goodRx,
  };
}

/**
 * chrony's convert_tai_offset: TAI - UTC for a sample at cooked `time` whose reference time
 * (time + offset) is TAI, from `taiOffset` (TAI - UTC at a UTC instant); null when unknown.
 */
export function taiMinusUtc(
  time: Instant,
  offset: number,
  taiOffset: (t: Instant) => number | null,
): number | null {
  const taiTime = time + BigInt(Math.round(offset * 1e9));
  const first = taiOffset(taiTime);
  if (first === null) return null;
  const tai = taiOffset(taiTime - BigInt(first) * 1_000_000_000n);
  return tai === null || tai === 0 ? null : tai;
}
