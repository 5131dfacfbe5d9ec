/**
 * Reads chrony-style log files back (tracking.log and measurements.log, as written by
 * tempus's `log` directive and by chronyd): banners, headers and lines that do not parse are
 * skipped and counted, never thrown. Values come back in tempus's signs: offsets reference
 * minus local (tracking.log stores chrony's local minus reference; measurements.log stores
 * the RFC 5905 offset, already tempus's sign). Frequency
 * stays in chrony's sense (> 0: clock fast), as the files show it.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";

/** One tracking.log line. */
export interface TrackingEntry {
  /** Unix seconds (the log's 1 s resolution). */
  t: number;
  /** Reference address or "". */
  reference: string;
  /** Stratum. */
  stratum: number;
  /** Frequency, ppm, chrony sense (> 0: clock fast). */
  freqPpm: number;
  /** Skew, ppm. */
  skewPpm: number;
  /** Offset corrected at this update, reference minus local, s. */
  offset: number;
  /** Leap character: N + - ?. */
  leap: string;
  /** Root delay, s. */
  rootDelay: number;
  /** Root dispersion, s. */
  rootDispersion: number;
  /** Max. error, s. */
  maxError: number;
}

/** One measurements.log line. */
export interface MeasurementEntry {
  /** Unix seconds. */
  t: number;
  /** Source address. */
  source: string;
  /** Offset, reference minus local, s. */
  offset: number;
  /** Round-trip delay, s. */
  delay: number;
  /** True when every test passed (the sample was usable). */
  valid: boolean;
  /** Local poll when the sample was taken, log2 s (the LP column). */
  poll?: number;
  /** What the server announced (recordmeasurements only): stratum. */
  stratum?: number;
  /** Server precision, log2 s. */
  serverPrecision?: number;
  /** Server root delay, s. */
  rootDelay?: number;
  /** Server root dispersion, s. */
  rootDispersion?: number;
  /**
   * NTP clock midway between the request's transmission and the reply's arrival, Unix ns
   * (recordmeasurements only).
   */
  sampleTime?: Instant;
  /** The server's processing time (T3 - T2), s (recordmeasurements only). */
  responseTime?: number;
}

/** A parse result: entries plus how many non-banner lines were skipped. */
export interface Parsed<T> {
  /** Parsed entries, in file order. */
  entries: T[];
  /** Lines that looked like data but did not parse. */
  skipped: number;
}

function parseTime(date: string, time: string): number | null {
  if (!/^\d{4}-\d\d-\d\d$/.test(date) || !/^\d\d:\d\d:\d\d$/.test(time)) return null;
  const ms = Date.parse(`${date}T${time}Z`);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

function isBanner(line: string): boolean {
  const s = line.trim();
  return s === "" || s.startsWith("=") || s.startsWith("Date (UTC)");
}

function nums(tokens: string[]): number[] | null {
  const out = tokens.map(Number);
  return out.every(Number.isFinite) ? out : null;
}

function parseLines<T>(text: string, parse: (tokens: string[]) => T | null): Parsed<T> {
  const entries: T[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (isBanner(line)) continue;
    const entry = parse(line.trim().split(/\s+/));
    if (entry === null) skipped++;
    else entries.push(entry);
  }
  return { entries, skipped };
}

/** Parses tracking.log text. */
export function parseTrackingLog(text: string): Parsed<TrackingEntry> {
  return parseLines(text, (tk) => {
    // The reference column is blank when there is none: re-insert it.
    if (tk.length === 14 - 1 && /^\d+$/.test(tk[2])) tk.splice(2, 0, "");
    if (tk.length < 14) return null;
    const t = parseTime(tk[0], tk[1]);
    const v = nums([tk[3], tk[4], tk[5], tk[6], tk[11], tk[12], tk[13]]);
    if (t === null || v === null) return null;
    return {
      t,
      reference: tk[2],
      stratum: v[0],
      freqPpm: v[1],
      skewPpm: v[2],
      offset: -v[3],
      leap: tk[7],
      rootDelay: v[4],
      rootDispersion: v[5],
      maxError: v[6],
    };
  });
}

/** Parses measurements.log text. */
export function parseMeasurementsLog(text: string): Parsed<MeasurementEntry> {
  return parseLines(text, (tk) => {
    if (tk.length < 17) return null;
    const t = parseTime(tk[0], tk[1]);
    const v = nums([tk[11], tk[12]]);
    if (t === null || v === null) return null;
    const tests = tk[5] + tk[6] + tk[7];
    if (!/^[01]{10}$/.test(tests)) return null;
    const poll = Number(tk[8]);
    return {
      t,
      source: tk[2],
      offset: v[0],
      delay: v[1],
      valid: tests === "1111111111",
      ...(Number.isInteger(poll) ? { poll } : {}),
    };
  });
}
