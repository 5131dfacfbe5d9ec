/**
 * NTP time formats: the 64-bit 32.32 timestamp (seconds since 1900-01-01, era-less on the
 * wire) and the 32-bit 16.16 short format used for root delay and root dispersion.
 *
 * A 64-bit NTP timestamp is carried as a `bigint` holding the raw unsigned value
 * (`seconds << 32 | fraction`). Its era is resolved against a pivot instant: the result is
 * the instant whose NTP seconds lie within [pivot - 2^31 s, pivot + 2^31 s).
 *
 * @module
 */
import { type Instant, NS_PER_SECOND } from "../base/time.ts";

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800n;

const TWO_32 = 1n << 32n;
const TWO_31 = 1n << 31n;
const MASK_32 = TWO_32 - 1n;
const MASK_64 = (1n << 64n) - 1n;

/** Largest value of the 16.16 short format, as seconds (65535.99998...). */
export const NTP_SHORT_MAX_SECONDS = 0xffff_ffff / 65536;

/** Integer division rounding half up (for non-negative `a` and positive `b`). */
function divRound(a: bigint, b: bigint): bigint {
  return (a + b / 2n) / b;
}

/**
 * Converts an instant to a raw 64-bit NTP timestamp (32.32 since 1900, modulo the era).
 * Nanoseconds map to the nearest 2^-32 s fraction, so `ntp64ToInstant` recovers the exact
 * instant when the pivot is within 68 years.
 */
export function instantToNtp64(t: Instant): bigint {
  let seconds = t / NS_PER_SECOND;
  let ns = t % NS_PER_SECOND;
  if (ns < 0n) {
    ns += NS_PER_SECOND;
    seconds -= 1n;
  }
  // ns < 1e9, so the rounded fraction stays below 2^32 (at most 4294967292).
  const fraction = divRound(ns << 32n, NS_PER_SECOND);
  const ntpSeconds = (seconds + NTP_UNIX_OFFSET_SECONDS) & MASK_32;
  return (ntpSeconds << 32n) | fraction;
}

/**
 * Converts a raw 64-bit NTP timestamp to an instant, choosing the era that puts it within
 * ±2^31 seconds of `pivot` (normally the local clock now). Values outside 64 bits are masked.
 */
export function ntp64ToInstant(ts: bigint, pivot: Instant): Instant {
  const raw = ts & MASK_64;
  const wireSeconds = raw >> 32n;
  const fraction = raw & MASK_32;
  let pivotSeconds = pivot / NS_PER_SECOND;
  if (pivot % NS_PER_SECOND < 0n) pivotSeconds -= 1n;
  const pivotNtp = pivotSeconds + NTP_UNIX_OFFSET_SECONDS;
  const pivotLow = ((pivotNtp % TWO_32) + TWO_32) % TWO_32;
  let diff = (wireSeconds - pivotLow + TWO_32) % TWO_32;
  if (diff >= TWO_31) diff -= TWO_32;
  const ntpSeconds = pivotNtp + diff;
  const ns = divRound(fraction * NS_PER_SECOND, TWO_32);
  return (ntpSeconds - NTP_UNIX_OFFSET_SECONDS) * NS_PER_SECOND + ns;
}

/** Builds a raw 64-bit NTP timestamp from its 32-bit seconds and fraction fields. */
export function ntp64FromParts(seconds: number, fraction: number): bigint {
  return (BigInt(seconds >>> 0) << 32n) | BigInt(fraction >>> 0);
}

/** Splits a raw 64-bit NTP timestamp into its 32-bit seconds and fraction fields. */
export function ntp64ToParts(ts: bigint): { seconds: number; fraction: number } {
  const raw = ts & MASK_64;
  return { seconds: Number(raw >> 32n), fraction: Number(raw & MASK_32) };
}

/**
 * Seconds from `earlier` to `later`, both raw 64-bit NTP timestamps, assuming they are
 * within 68 years of each other (wraps correctly across an era boundary).
 */
export function ntp64Difference(later: bigint, earlier: bigint): number {
  let diff = ((later & MASK_64) - (earlier & MASK_64)) & MASK_64;
  if (diff >= 1n << 63n) diff -= 1n << 64n;
  const whole = diff >> 32n;
  const fraction = diff & MASK_32;
  return Number(whole) + Number(fraction) / 4294967296;
}

/**
 * Converts seconds to the 16.16 short format (unsigned 32-bit), rounded up to the next
 * 2^-16 s (as chrony's UTI_DoubleToNtp32: an announced root delay or dispersion is never
 * smaller than the real one) and clamped to [0, 65535.99998] (NaN gives 0).
 */
export function secondsToNtpShort(s: number): number {
  if (!(s > 0)) return 0;
  if (s >= NTP_SHORT_MAX_SECONDS) return 0xffff_ffff;
  return Math.min(0xffff_ffff, Math.ceil(s * 65536));
}

/** Converts a 16.16 short-format value (unsigned 32-bit) to seconds. */
export function ntpShortToSeconds(u32: number): number {
  return (u32 >>> 0) / 65536;
}
