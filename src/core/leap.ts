/**
 * Leap-second calendar helpers (sans-IO): a leap second can only be scheduled at the end of
 * 30 June or 31 December (UTC), and samples close to it are dropped.
 *
 * @module
 */
import type { LeapStatus } from "./reports.ts";
import { type Instant, instantToParts, NS_PER_SECOND } from "../base/time.ts";

/** Samples within this many seconds of a leap second are dropped (chrony LEAP_SECOND_CLOSE). */
export const LEAP_SECOND_CLOSE = 5;

/** True when the UTC day of `t` is 30 June or 31 December (a leap second may end it). */
export function isLeapSecondDay(t: Instant): boolean {
  const { seconds } = instantToParts(t);
  const d = new Date(Number(seconds) * 1000);
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  return (month === 5 && day === 30) || (month === 11 && day === 31);
}

/** The instant at which the UTC day of `t` ends (next midnight, Unix time). */
export function endOfUtcDay(t: Instant): Instant {
  const { seconds } = instantToParts(t);
  const day = seconds / 86400n;
  return (day + 1n) * 86400n * NS_PER_SECOND;
}

/**
 * The leap status to act on given the sources' vote at `now`: insert/delete only on a
 * leap-second day, otherwise normal; unsynchronised passes through.
 */
export function effectiveLeap(vote: LeapStatus, now: Instant): LeapStatus {
  if (vote === 1 || vote === 2) return isLeapSecondDay(now) ? vote : 0;
  return vote;
}

/**
 * The instant (Unix time, before the leap) at which a leap second takes effect for a day
 * containing `now`: midnight for an insertion (the clock repeats a second), one second
 * before midnight for a deletion.
 */
export function leapInstant(leap: LeapStatus, now: Instant): Instant {
  const midnight = endOfUtcDay(now);
  return leap === 2 ? midnight - NS_PER_SECOND : midnight;
}

/** True when `t` lies within LEAP_SECOND_CLOSE seconds of the leap instant `at`. */
export function isCloseToLeap(t: Instant, at: Instant): boolean {
  const d = Number(t - at) / 1e9;
  return Math.abs(d) < LEAP_SECOND_CLOSE;
}
