/**
 * Time types and the one sign convention of tempus.
 *
 * - An absolute instant is a `bigint` count of nanoseconds since the Unix epoch
 *   (1970-01-01T00:00:00Z, leap seconds not counted), named `Instant`.
 * - A `number` of seconds is only ever a difference: offset, delay, dispersion, interval.
 * - `offset` is reference minus local: positive means the local clock is behind (slow),
 *   as in RFC 5905 and chronyc's "slow of NTP time".
 * - `freqPpm` is the rate correction applied to the raw oscillator: positive makes the
 *   clock run faster (the kernel's adjtimex sense). A clock whose oscillator is 100 ppm slow
 *   needs `freqPpm = +100`. chrony reports (tracking "Frequency", driftfile) use the
 *   opposite sign; conversion happens only at those edges (cmdmon, driftfile).
 *
 * @module
 */

/** Nanoseconds since the Unix epoch. */
export type Instant = bigint;

/** Nanoseconds in one second, as a bigint. */
export const NS_PER_SECOND = 1_000_000_000n;

/** Seconds from `earlier` to `later` (`later - earlier`) as a number. */
export function secondsBetween(later: Instant, earlier: Instant): number {
  return Number(later - earlier) / 1e9;
}

/** The instant `seconds` after `t` (rounded to the nearest nanosecond). */
export function addSeconds(t: Instant, seconds: number): Instant {
  return t + BigInt(Math.round(seconds * 1e9));
}

/** Builds an instant from whole Unix seconds and nanoseconds. */
export function instantFromParts(seconds: number | bigint, nanoseconds = 0): Instant {
  return BigInt(seconds) * NS_PER_SECOND + BigInt(nanoseconds);
}

/** Splits an instant into whole Unix seconds (floored) and nanoseconds in [0, 1e9). */
export function instantToParts(t: Instant): { seconds: bigint; nanoseconds: number } {
  let s = t / NS_PER_SECOND;
  let ns = t % NS_PER_SECOND;
  if (ns < 0n) {
    ns += NS_PER_SECOND;
    s -= 1n;
  }
  return { seconds: s, nanoseconds: Number(ns) };
}

/** An ISO-8601 UTC string with microseconds, for logs and reports. */
export function formatInstant(t: Instant): string {
  const { seconds, nanoseconds } = instantToParts(t);
  const date = new Date(Number(seconds) * 1000);
  const base = date.toISOString().slice(0, 19);
  return `${base}.${String(Math.floor(nanoseconds / 1000)).padStart(6, "0")}Z`;
}
