/**
 * Small helpers shared by the guest scenarios: clock readings and sleeping.
 *
 * @module
 */
import { clockGettime } from "../../../ffi/libc.ts";
import { CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME } from "../../../ffi/timespec.ts";

/** CLOCK_REALTIME, ns. */
export function realtime(): bigint {
  return clockGettime(CLOCK_REALTIME);
}

/** CLOCK_MONOTONIC, ns. */
export function monotonic(): bigint {
  return clockGettime(CLOCK_MONOTONIC);
}

/** CLOCK_MONOTONIC_RAW, ns (untouched by adjtimex and steps). */
export function monotonicRaw(): bigint {
  return clockGettime(CLOCK_MONOTONIC_RAW);
}

/** CLOCK_REALTIME minus CLOCK_MONOTONIC, seconds: changes only when the clock is stepped. */
export function realMinusMono(): number {
  const r = realtime();
  const m = monotonic();
  return Number(r - m) / 1e9;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rounds to `digits` decimals (for compact JSON). */
export function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
