/**
 * The `local` refclock (chrony 4.3's refclock option `local`), pure: a clock more stable than
 * the system clock (TCXO, OCXO, atomic) but not synchronised to anything. Its samples are
 * pulses locked to its own previous sample, so its offset runs on continuously past whole
 * seconds; it announces itself unsynchronised, so selection never picks it. After each of
 * its filtered samples, the change of its regression (frequency and offset relative to the
 * system clock) since the previous one is applied to the system clock - without telling the
 * other sources (chrony REF_AdjustReference) - so the system clock keeps the relation it
 * had to the stable oscillator: selected sources still set the time and the long-term
 * frequency, the local refclock removes the system oscillator's own wander, also in
 * holdover. Whole seconds are taken off its offsets to keep them small.
 *
 * @module
 */
import { type Instant, secondsBetween } from "../../base/time.ts";
import type { SourceStats } from "../sourcestats.ts";
import type { RefclockConfig } from "../../config/model.ts";
import {
  foldPulseOffset,
  lockedPulse,
  type LockSample,
  type PulseOptions,
  type PulseResult,
} from "./refclock_pulse.ts";

/** chrony's smallest `maxlockage` of a local refclock, pulses. */
export const LOCAL_MIN_LOCK_AGE = 3;

/** A local refclock's regression as chrony's follow_local reads it. */
export interface LocalEstimate {
  /** Cooked time the estimate refers to. */
  refTime: Instant;
  /** Offset of the refclock at refTime, seconds (reference minus local). */
  offset: number;
  /** Its frequency relative to the system clock, fraction (tempus sense). */
  frequency: number;
}

/** The clock change that keeps the system clock on the local refclock. */
export interface LocalAdjustment {
  /** Seconds to slew (> 0: the clock moves forward). */
  doffset: number;
  /** Relative frequency change, fraction (> 0: faster). */
  dfreq: number;
}

/** chrony get_local_stats: the estimate once the statistics hold minsamples, else null. */
export function localEstimate(stats: SourceStats): LocalEstimate | null {
  if (stats.sampleCount < stats.minSamples) return null;
  const t = stats.trackingData();
  if (t === null) return null;
  return { refTime: t.refTime, offset: t.offset, frequency: t.frequencyPpm * 1e-6 };
}

/**
 * chrony follow_local: what moved between the previous estimate (before the new sample) and
 * the new one - the frequency change, and the offset beyond the previous estimate's
 * prediction. Null when either estimate is missing.
 */
export function followLocal(
  prev: LocalEstimate | null,
  next: LocalEstimate | null,
): LocalAdjustment | null {
  if (prev === null || next === null) return null;
  const dfreq = (next.frequency - prev.frequency) / (1 + prev.frequency);
  const elapsed = secondsBetween(next.refTime, prev.refTime);
  const doffset = next.offset - elapsed * prev.frequency - prev.offset;
  if (!Number.isFinite(dfreq) || !Number.isFinite(doffset)) return null;
  return { doffset, dfreq };
}

/** Whole seconds to add to the offsets so they stay under a second (0 when they are). */
export function wholeSecondCorrection(offset: number): number {
  return Math.abs(offset) >= 1 ? -Math.round(offset) : 0;
}

/**
 * The lock of a local refclock's pulse: its own newest sample, or with none yet the pulse
 * itself (chrony: "make the first sample in order to lock to itself"), with the filter's
 * average dispersion.
 */
export function selfLock(
  own: LockSample | null,
  time: Instant,
  offset: number,
  averageDispersion: number,
): LockSample {
  return own ?? { time, offset, dispersion: averageDispersion, leap: 3 };
}

/** True when the local refclock's newest sample is too old to lock a pulse at `time` to. */
export function localLockLost(
  time: Instant,
  own: LockSample | null,
  o: Pick<PulseOptions, "maxLockAge" | "rate">,
): boolean {
  if (own === null) return false;
  return Math.abs(Number(time - own.time) / 1e9) >= o.maxLockAge / Math.max(1, o.rate);
}

/** A refclock's pulse options; a local one keeps its lock at least LOCAL_MIN_LOCK_AGE pulses. */
export function pulseOptions(c: RefclockConfig, offset: number): PulseOptions {
  const maxLockAge = c.local ? Math.max(c.maxLockAge, LOCAL_MIN_LOCK_AGE) : c.maxLockAge;
  return { rate: c.rate, width: c.width, maxLockAge, offset };
}

/**
 * A pulse of a local refclock at cooked time `time`: locked to `own` (its newest sample, or
 * the pulse itself when there is none), or "lost" when `own` is older than the lock age.
 */
export function localPulse(
  time: Instant,
  second: number,
  dispersion: number,
  own: LockSample | null,
  filter: { readonly averageDispersion: number },
  o: PulseOptions,
): PulseResult | "lost" {
  if (localLockLost(time, own, o)) return "lost";
  const lock = selfLock(own, time, foldPulseOffset(second, o), filter.averageDispersion);
  return lockedPulse(time, second, dispersion, lock, o);
}
