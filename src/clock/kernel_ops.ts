/**
 * The kernel calls a clock driver makes, behind one small interface so tests can inject a
 * fake kernel and assert the exact struct timex each write would send.
 *
 * @module
 */
import {
  adjtimex,
  type AdjtimexResult,
  clockGettime,
  clockSettime,
  libcAvailable,
} from "../../ffi/libc.ts";
import type { Timex } from "../../ffi/timex.ts";

/** What a clock driver needs from the kernel. Each call throws ErrnoError on failure. */
export interface KernelClockOps {
  /** adjtimex(2) on CLOCK_REALTIME. */
  adjtimex(tx: Partial<Timex>): AdjtimexResult;
  /** clock_gettime(2): nanoseconds. */
  clockGettime(clockId: number): bigint;
  /** clock_settime(2). */
  clockSettime(clockId: number, ns: bigint): void;
}

/** The real kernel through ffi/libc.ts. */
export const libcKernelClock: KernelClockOps = {
  adjtimex,
  clockGettime,
  clockSettime,
};

/** Monotonic and wall-clock readings, injectable for deterministic tests. */
export interface TimeSource {
  /** CLOCK_REALTIME in nanoseconds since the epoch. */
  realtime(): bigint;
  /** A monotonic clock in nanoseconds (arbitrary origin). */
  monotonic(): bigint;
}

/**
 * The system's clocks: CLOCK_REALTIME and CLOCK_MONOTONIC_RAW through ffi when libc is
 * available, otherwise Date.now and performance.now (millisecond/microsecond resolution).
 */
export function systemTimeSource(): TimeSource {
  if (libcAvailable()) {
    return {
      realtime: () => clockGettime(0),
      monotonic: () => clockGettime(4),
    };
  }
  return {
    realtime: () => BigInt(Date.now()) * 1_000_000n,
    monotonic: () => BigInt(Math.round(performance.now() * 1e6)),
  };
}
