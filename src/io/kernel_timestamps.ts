/**
 * The one rule that turns a kernel timestamp into cooked time, for every socket that gets
 * kernel timestamps (the NTP server, the daemon's client transport, the one-shot exchange).
 *
 * The kernel stamps datagrams on CLOCK_REALTIME. The engine reasons in cooked time: the
 * driver's raw clock plus the correction still being slewed in (src/core/local_clock.ts).
 * The raw clock is CLOCK_REALTIME for the Linux driver, and CLOCK_REALTIME plus a virtual
 * correction for the null driver (-x); a one-shot caller with no engine has only its own
 * clock. So the rule goes through the timestamp's age, which every scale agrees on:
 *
 * 1. read CLOCK_REALTIME now and the raw clock now, back to back;
 * 2. age = CLOCK_REALTIME now − kernel timestamp;
 * 3. if 0 ≤ age ≤ 1 s: cooked = cook(raw now − age), i.e. the arrival instant on the raw
 *    scale, cooked with the correction in force *at that instant* (a slew in progress moves
 *    the correction by its rate times the age; reading the cooked clock now and subtracting
 *    the age would miss that, up to 83 µs for a 1-s-old timestamp at chrony's largest slew);
 * 4. otherwise the timestamp is not trusted and cooked = cook(raw now), the time the
 *    datagram reached us (what a socket without kernel timestamps gives).
 *
 * Why the age guard: a timestamp in the future or older than a second means CLOCK_REALTIME
 * was stepped between the kernel's stamp and our reading (by us or by someone else), or the
 * stamp is bogus; its age then says nothing about elapsed time. chrony applies the same
 * bound (ntp_io_linux.c, MAX_TS_DELAY 1 s, against its cooked read-out time). A step smaller
 * than the bound, forward, goes unseen here as in chrony: the engine, which made the step,
 * drops measurements that span it. A frequency change of CLOCK_REALTIME during the age
 * changes the age by at most 0.05 % of it (0.5 µs per ms), which is below the noise.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";

/** A kernel timestamp older than this (or in the future) is not trusted. */
export const MAX_KERNEL_TS_AGE_NS = 1_000_000_000n;

/**
 * The clock a kernel timestamp is cooked onto: the engine's `LocalClock` fits as it is
 * (`rawNow`, `cook`); a caller with one clock uses {@link singleClockScale}.
 */
export interface TimeScale {
  /** The driver's raw clock now. */
  rawNow(): Instant;
  /** Cooked time of a raw instant (raw plus the correction remaining at that instant). */
  cook(raw: Instant): Instant;
}

/** A scale whose raw clock is `clock` and which cooks nothing (one-shot callers, tests). */
export function singleClockScale(clock: () => Instant): TimeScale {
  return { rawNow: clock, cook: (raw) => raw };
}

/** Both clocks read back to back, once per batch of timestamps to cook. */
export interface ClockPair {
  /** CLOCK_REALTIME (the kernel's timestamp clock) now. */
  realtime: Instant;
  /** The scale's raw clock now. */
  raw: Instant;
}

/** A cooked timestamp and whether it came from the kernel. */
export interface CookedTime {
  /** Cooked time. */
  time: Instant;
  /** True when the kernel's timestamp was used (false: the time of reading). */
  kernel: boolean;
}

/**
 * Cooks kernel timestamp `kernel` (CLOCK_REALTIME; null when the kernel gave none) onto
 * `scale`, given both clocks read now (the rule in the module comment). Pure.
 */
export function cookKernelTimestamp(
  kernel: Instant | null,
  now: ClockPair,
  scale: TimeScale,
): CookedTime {
  if (kernel !== null) {
    const age = now.realtime - kernel;
    if (age >= 0n && age <= MAX_KERNEL_TS_AGE_NS) {
      return { time: scale.cook(now.raw - age), kernel: true };
    }
  }
  return { time: scale.cook(now.raw), kernel: false };
}

/**
 * Cooked time of `realtime`, a CLOCK_REALTIME reading taken after the clocks of `pair` were
 * read: the same conversion as a kernel timestamp (the raw clock at the pair plus the
 * CLOCK_REALTIME time since, cooked at that instant), so a busy loop reads one cheap clock
 * per transmit time instead of the driver's. Null when `realtime` is before the pair or
 * more than 1 s after it (a step in between): then read the cooked clock itself. Pure.
 */
export function cookRealtimeAfter(
  realtime: Instant,
  pair: ClockPair,
  scale: TimeScale,
): Instant | null {
  const elapsed = realtime - pair.realtime;
  if (elapsed < 0n || elapsed > MAX_KERNEL_TS_AGE_NS) return null;
  return scale.cook(pair.raw + elapsed);
}
