/**
 * The lines of chrony's statistics log files, formatted as chronyd writes them: the banners, the
 * records the daemon hands over (tempus's sign convention), and the C printf-style number
 * formats, with the conversion to chrony's column signs. Pure; log_files.ts writes them.
 *
 * @module
 */
import type { LeapStatus } from "../core/reports.ts";
import type { RefclockSampleLog } from "../core/source/refclock_types.ts";
import { type Instant, instantToParts } from "../base/time.ts";

/** Column header of tracking.log (chrony reference.c). */
export const TRACKING_BANNER =
  "   Date (UTC) Time     IP Address   St   Freq ppm   Skew ppm     Offset L Co  Offset sd Rem. corr. Root delay Root disp. Max. error";
/** Column header of measurements.log (chrony ntp_core.c). */
export const MEASUREMENTS_BANNER =
  "   Date (UTC) Time     IP Address   L St 123 567 ABCD  LP RP Score    Offset  Peer del. Peer disp.  Root del. Root disp. Refid     MTxRx";
/** Column header of statistics.log (chrony sourcestats.c). */
export const STATISTICS_BANNER =
  "   Date (UTC) Time     IP Address    Std dev'n Est offset  Offset sd  Diff freq   Est skew  Stress  Ns  Bs  Nr  Asym";
/** Column header of rtc.log (chrony rtc_linux.c). */
export const RTC_BANNER =
  "   Date (UTC) Time   RTC fast (s) Val   Est fast (s)   Slope (ppm)  Ns  Nr Meas";
/** Column header of selection.log (chrony sources.c). */
export const SELECTION_BANNER =
  "   Date (UTC) Time     IP Address   S EOpts Reach Score Last sample  Low end   High end";

/** Column header of tempcomp.log (chrony tempcomp.c). */
export const TEMPCOMP_BANNER = "   Date (UTC) Time        Temp.       Comp.";

/** Column header of refclocks.log (chrony refclock.c). */
export const REFCLOCKS_BANNER =
  "   Date (UTC) Time         Refid  DP L P  Raw offset   Cooked offset      Disp.";

/** One refclock sample (raw, from the driver) or filtered sample (chrony refclocks.log). */
export type RefclockLogRecord = RefclockSampleLog;

/** A refclocks.log line, as chrony's log_sample. */
export function formatRefclockLine(r: RefclockLogRecord): string {
  const { nanoseconds } = instantToParts(r.time);
  const us = String(Math.floor(nanoseconds / 1000)).padStart(6, "0");
  const leap = "N+-?"[r.leap] ?? "?";
  const head = `${logTime(r.time)}.${us} ${r.refId.padEnd(5)}`;
  if (r.count === null) {
    return `${head}   - ${leap} -       -       ${cExp(r.offset, 6, 13)} ${
      cExp(r.dispersion, 3, 10)
    }`;
  }
  const pulse = r.pulse ? 1 : 0;
  return `${head} ${String(r.count).padStart(3)} ${leap} ${pulse} ${cExp(r.rawOffset, 6, 13)} ` +
    `${cExp(r.offset, 6, 13)} ${cExp(r.dispersion, 3, 10)}`;
}

/** One clock update (chrony tracking.log). Values in tempus signs. */
export interface TrackingLogRecord {
  /** When (cooked time of the update). */
  time: Instant;
  /** Address of the reference source, or its refid text ("LOCL", "MANU"). */
  reference: string;
  /** Our stratum. */
  stratum: number;
  /** Frequency correction, ppm, tempus sense (written negated: chrony's "fast" sign). */
  freqPpm: number;
  /** Skew, ppm. */
  skewPpm: number;
  /** Offset at the update, reference minus local, s (written negated: > 0 = clock fast). */
  offset: number;
  /** Our leap status. */
  leap: LeapStatus;
  /** Number of combined sources. */
  combinedSources: number;
  /** Standard deviation of the combined offset, s. */
  offsetSd: number;
  /** Correction still pending from the previous update, s, > 0 = clock slow (as chrony). */
  remainingCorrection: number;
  /** Root delay, s. */
  rootDelay: number;
  /** Root dispersion, s. */
  rootDispersion: number;
  /** Maximum estimated error since the previous update, s. */
  maxError: number;
}

/** One NTP measurement (chrony measurements.log). Values in tempus signs. */
export interface MeasurementLogRecord {
  /** Sample time. */
  time: Instant;
  /** Source address. */
  address: string;
  /** Leap indicator of the packet. */
  leap: LeapStatus;
  /** Stratum of the packet. */
  stratum: number;
  /** Test bits 1,2,3,5,6,7,A,B,C,D in bits 0..9 (1 = passed), as NtpDataReport.tests. */
  tests: number;
  /** Local poll, log2 s. */
  localPoll: number;
  /** Remote poll, log2 s. */
  remotePoll: number;
  /** Poll score. */
  score: number;
  /** Offset, reference minus local, s (same sign as chrony's column: > 0 = local slow). */
  offset: number;
  /** Peer delay, s. */
  peerDelay: number;
  /** Peer dispersion, s. */
  peerDispersion: number;
  /** Root delay of the packet, s. */
  rootDelay: number;
  /** Root dispersion of the packet, s. */
  rootDispersion: number;
  /** Reference id of the packet. */
  refId: number;
  /** NTP mode of the packet (1 active, 2 passive, 4 server). */
  mode: number;
  /** Interleaved response. */
  interleaved: boolean;
  /** Source of the local transmit / receive timestamps: D daemon, K kernel, H hardware. */
  txSource?: "D" | "K" | "H";
  /** Source of the local receive timestamp. */
  rxSource?: "D" | "K" | "H";
  /** The sample passed tests 1-7 (chrony logs only these unless rawmeasurements). */
  valid: boolean;
}

/** One regression of a source (chrony statistics.log). Values in tempus signs. */
export interface StatisticsLogRecord {
  /** Time of the offset estimate. */
  time: Instant;
  /** Source address or refid text. */
  address: string;
  /** Standard deviation of the samples, s. */
  stdDev: number;
  /** Estimated offset, reference minus local, s (written negated: > 0 = local fast). */
  estimatedOffset: number;
  /** Standard deviation of the offset estimate, s. */
  offsetSd: number;
  /** Residual frequency, ppm, tempus sense (written as chrony's gain rate, s/s). */
  residualFreqPpm: number;
  /** Skew, ppm (written in s/s). */
  skewPpm: number;
  /** |old - new frequency| / old skew. */
  stress: number;
  /** Samples in the regression. */
  samples: number;
  /** Index of the first sample kept ("best start"). */
  bestStart: number;
  /** Runs of residual signs. */
  runs: number;
  /** Jitter asymmetry used (-0.5..0.5). */
  asymmetry: number;
}

/** One RTC measurement (chrony rtc.log). Values as in chrony (> 0 = RTC fast). */
export interface RtcLogRecord {
  /** System time of the reading. */
  time: Instant;
  /** Measured RTC minus system time, s. */
  rtcFast: number;
  /** The regression coefficients are valid. */
  valid: boolean;
  /** Offset predicted by the regression, s. */
  estimatedFast: number;
  /** RTC gain rate, ppm (> 0 = RTC gaining). */
  slopePpm: number;
  /** Samples in the regression. */
  samples: number;
  /** Runs. */
  runs: number;
  /** Measurement interval, s. */
  interval: number;
}

/** One source's state after a selection (chrony selection.log). Values in tempus signs. */
export interface SelectionLogRecord {
  /** Time of the selection. */
  time: Instant;
  /** Source address or refid text. */
  address: string;
  /** chrony state character (* + - x ? ...). */
  state: string;
  /** Selection options. */
  noselect: boolean;
  /** prefer. */
  prefer: boolean;
  /** trust. */
  trust: boolean;
  /** require. */
  require: boolean;
  /** 8-bit reachability register. */
  reachability: number;
  /** Selection score. */
  score: number;
  /** Seconds since the last sample. */
  lastSampleAgo: number;
  /** Low end of the interval for reference minus local, s (tempus sign). */
  low: number;
  /** High end of that interval, s (tempus sign). */
  high: number;
}

/**
 * printf("%W.Pe"): C-style exponent with at least two digits, right-aligned in `width`.
 * Negative zero keeps its sign, as in C, so sign flips at this edge mirror chrony exactly.
 */
export function cExp(value: number, precision: number, width = 0): string {
  return cFormat(value, width, () => {
    const [mant, exp] = value.toExponential(precision).split("e");
    const e = Number(exp);
    const s = `${mant}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
    return Object.is(value, -0) ? "-" + s : s;
  });
}

/** printf("%W.Pf"), right-aligned in `width`. */
export function cFixed(value: number, precision: number, width = 0): string {
  return cFormat(value, width, () => {
    const s = value.toFixed(precision);
    return Object.is(value, -0) || (value < 0 && !s.startsWith("-")) ? "-" + s : s; // as C: "-0.000"
  });
}

/** `finite()` right-aligned in `width`, or C's "nan", "inf", "-inf" when `value` is not finite. */
function cFormat(value: number, width: number, finite: () => string): string {
  if (Number.isNaN(value)) return "nan".padStart(width);
  if (!Number.isFinite(value)) return (value < 0 ? "-inf" : "inf").padStart(width);
  return finite().padStart(width);
}

/** printf("%Wd"). */
export function cInt(value: number, width = 0): string {
  return String(Math.trunc(value)).padStart(width);
}

/** chrony's UTI_TimeToLogForm: "YYYY-MM-DD HH:MM:SS" in UTC. */
export function logTime(t: Instant): string {
  const { seconds } = instantToParts(t);
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) return "0000-00-00 00:00:00"; // beyond JS dates
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

const LEAP_CHARS = ["N", "+", "-", "?"];

/** Formats a tracking.log line. */
export function formatTrackingLine(r: TrackingLogRecord): string {
  return [
    logTime(r.time),
    r.reference.padEnd(15),
    cInt(r.stratum, 2),
    cFixed(-r.freqPpm, 3, 10),
    cFixed(r.skewPpm, 3, 10),
    cExp(-r.offset, 3, 10),
    LEAP_CHARS[r.leap] ?? "?",
    cInt(r.combinedSources, 2),
    cExp(r.offsetSd, 3, 10),
    cExp(r.remainingCorrection, 3, 10),
    cExp(r.rootDelay, 3, 10),
    cExp(r.rootDispersion, 3, 10),
    cExp(r.maxError, 3, 10),
  ].join(" ");
}

/** Formats a measurements.log line. */
export function formatMeasurementLine(r: MeasurementLogRecord): string {
  const bits = Array.from({ length: 10 }, (_, i) => (r.tests >> i) & 1).join("");
  const tests = `${bits.slice(0, 3)} ${bits.slice(3, 6)} ${bits.slice(6)}`;
  return [
    logTime(r.time),
    r.address.padEnd(15),
    LEAP_CHARS[r.leap] ?? "?",
    cInt(r.stratum, 2),
    tests,
    ` ${cInt(r.localPoll, 2)}`,
    cInt(r.remotePoll, 2),
    cFixed(r.score, 2, 4),
    cExp(r.offset, 3, 10),
    cExp(r.peerDelay, 3, 10),
    cExp(r.peerDispersion, 3, 10),
    cExp(r.rootDelay, 3, 10),
    cExp(r.rootDispersion, 3, 10),
    (r.refId >>> 0).toString(16).toUpperCase().padStart(8, "0"),
    `${cInt(r.mode, 1)}${r.interleaved ? "I" : "B"}`,
    r.txSource ?? "D",
    r.rxSource ?? "D",
  ].join(" ");
}

/** Formats a statistics.log line. */
export function formatStatisticsLine(r: StatisticsLogRecord): string {
  return [
    logTime(r.time),
    r.address.padEnd(15),
    cExp(r.stdDev, 3, 10),
    cExp(-r.estimatedOffset, 3, 10),
    cExp(r.offsetSd, 3, 10),
    cExp(-r.residualFreqPpm * 1e-6, 3, 10),
    cExp(r.skewPpm * 1e-6, 3, 10),
    cExp(r.stress, 1, 7),
    cInt(r.samples, 3),
    cInt(r.bestStart, 3),
    cInt(r.runs, 3),
    cFixed(r.asymmetry, 2, 5),
  ].join(" ");
}

/** Formats an rtc.log line. */
export function formatRtcLine(r: RtcLogRecord): string {
  return `${logTime(r.time)} ${cFixed(r.rtcFast, 6, 14)} ${r.valid ? "1" : "0"}  ` +
    `${cFixed(r.estimatedFast, 6, 14)}  ${cFixed(r.slopePpm, 3, 12)}  ${cInt(r.samples, 2)}  ` +
    `${cInt(r.runs, 2)} ${cInt(r.interval, 4)}`;
}

/** Formats a selection.log line (interval negated into chrony's local-minus-reference). */
export function formatSelectionLine(r: SelectionLogRecord): string {
  const opts = `-${r.noselect ? "N" : "-"}${r.prefer ? "P" : "-"}${r.trust ? "T" : "-"}${
    r.require ? "R" : "-"
  }`;
  return [
    logTime(r.time),
    r.address.padEnd(15),
    (r.state || "?").slice(0, 1),
    opts,
    (r.reachability & 0xff).toString(8).padStart(4),
    cFixed(r.score, 2, 5),
    cExp(r.lastSampleAgo, 3, 10),
    cExp(-r.high, 3, 10),
    cExp(-r.low, 3, 10),
  ].join(" ");
}

/** The banner block chrony writes: a "=" rule as long as the header, header, rule. */
export function bannerBlock(header: string): string {
  const rule = "=".repeat(header.length);
  return `${rule}\n${header}\n${rule}\n`;
}
