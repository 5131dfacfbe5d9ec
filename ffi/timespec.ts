/**
 * struct timespec (x86_64: two 64-bit fields) and the clock ids of clock_gettime, as pure
 * functions over bigint nanoseconds.
 *
 * @module
 */

/** Size in bytes of struct timespec on x86_64. */
export const TIMESPEC_SIZE = 16;

/** The settable wall clock. */
export const CLOCK_REALTIME = 0;
/** Monotonic, slewed with the wall clock's frequency but never stepped. */
export const CLOCK_MONOTONIC = 1;
/** Monotonic raw hardware time, untouched by adjtimex. */
export const CLOCK_MONOTONIC_RAW = 4;
/** Monotonic including suspend. */
export const CLOCK_BOOTTIME = 7;
/** International Atomic Time (CLOCK_REALTIME + the kernel's TAI offset). */
export const CLOCK_TAI = 11;

/** Encodes nanoseconds since the epoch as a timespec (tv_nsec normalised to [0, 1e9)). */
export function encodeTimespec(ns: bigint): Uint8Array {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  const bytes = new Uint8Array(TIMESPEC_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigInt64(0, sec, true);
  view.setBigInt64(8, nsec, true);
  return bytes;
}

/** Decodes a timespec into nanoseconds. */
export function decodeTimespec(bytes: Uint8Array): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getBigInt64(0, true) * 1_000_000_000n + view.getBigInt64(8, true);
}
