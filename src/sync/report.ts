/**
 * Shared output helpers for `tempus query` and `tempus sync`: a measurement as plain JSON
 * data and as text, leap-indicator names, signed-seconds formatting.
 *
 * @module
 */
import { formatInstant } from "../base/time.ts";
import { refIdToHex, refIdToString } from "../ntp/packet.ts";
import type { BurstSample as Measurement } from "./burst.ts";

/** Names of the leap indicator values. */
export const LEAP_NAMES = ["none", "insert second", "delete second", "unsynchronised"];

/** Seconds with sign and 9 decimals ("+0.000012345"). */
export function formatSeconds(s: number): string {
  return `${s >= 0 ? "+" : "-"}${Math.abs(s).toFixed(9)}`;
}

/** Seconds without sign, 6 decimals. */
export function formatDuration(s: number): string {
  return s.toFixed(6);
}

/** A measurement as JSON-friendly data (numbers in seconds, instants as ISO strings). */
export function measurementToJson(m: Measurement): Record<string, unknown> {
  const p = m.packet;
  return {
    offset: m.offset,
    delay: m.delay,
    dispersion: m.dispersion,
    rootDistance: m.rootDistance,
    stratum: p.stratum,
    refId: refIdToHex(p.refId),
    refIdText: refIdToString(p.refId, p.stratum),
    leap: p.leap,
    leapText: LEAP_NAMES[p.leap],
    version: p.version,
    rootDelay: p.rootDelay,
    rootDispersion: p.rootDispersion,
    precision: p.precision,
    poll: p.poll,
    localTransmit: formatInstant(m.t1),
    serverReceive: formatInstant(m.t2),
    serverTransmit: formatInstant(m.t3),
    localReceive: formatInstant(m.t4),
  };
}

/** One line per measurement: offset and delay. */
export function measurementLine(m: Measurement): string {
  return `offset ${formatSeconds(m.offset)} s  delay ${formatDuration(m.delay)} s  ` +
    `stratum ${m.packet.stratum}`;
}

/** The server's header fields, several lines, for the text report. */
export function serverDetails(m: Measurement): string[] {
  const p = m.packet;
  return [
    `  stratum ${p.stratum}, refid ${refIdText(p.refId, p.stratum)}, leap ${p.leap} (${
      LEAP_NAMES[p.leap]
    }), NTPv${p.version}`,
    `  root delay ${formatDuration(p.rootDelay)} s, root dispersion ${
      formatDuration(p.rootDispersion)
    } s`,
    `  precision 2^${p.precision} (${formatPower(p.precision)}), poll 2^${p.poll} (${
      formatPower(p.poll)
    })`,
  ];
}

/** The refid as text, with the hex form added when the text is not already hex. */
export function refIdText(refId: number, stratum: number): string {
  const text = refIdToString(refId, stratum);
  const hex = refIdToHex(refId);
  return text === hex ? hex : `${text} (${hex})`;
}

/** 2^n seconds in a readable unit. */
export function formatPower(log2: number): string {
  const s = Math.pow(2, log2);
  if (s >= 1) return `${s} s`;
  if (s >= 1e-3) return `${(s * 1e3).toPrecision(3)} ms`;
  if (s >= 1e-6) return `${(s * 1e6).toPrecision(3)} us`;
  return `${(s * 1e9).toPrecision(3)} ns`;
}

/** A one-line description of a Kiss-o'-Death code. */
export function describeKiss(code: string): string {
  switch (code) {
    case "RATE":
      return "rate exceeded: the server asks us to send less often";
    case "DENY":
      return "access denied by the server";
    case "RSTR":
      return "access restricted by the server";
    default:
      return "kiss code";
  }
}
