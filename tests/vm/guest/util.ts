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

/**
 * CLOCK_REALTIME minus CLOCK_MONOTONIC, seconds: changes only when the clock is stepped.
 * REALTIME is read between two MONOTONIC readings; the tightest of 5 tries is used, so a
 * preemption between the reads (frequent under TCG) does not look like a step.
 */
export function realMinusMono(): number {
  let best = Infinity;
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const m1 = monotonic();
    const r = realtime();
    const m2 = monotonic();
    const gap = m2 - m1;
    if (Number(gap) < best) {
      best = Number(gap);
      value = Number(r - (m1 + gap / 2n)) / 1e9;
    }
  }
  return value;
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
