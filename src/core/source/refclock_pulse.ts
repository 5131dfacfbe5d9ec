/**
 * Pulses (chrony's RCL_AddCookedPulse), pure: a PPS edge tells where the second starts on
 * the local clock, never which second it is. The seconds come either from another
 * refclock's newest sample (`lock REFID`) or, without a lock, from the synchronised clock
 * itself - only while the reference is good to better than half a pulse interval. `width`
 * rejects edges that fall too far from where the other edge of the pulse would be.
 *
 * @module
 */
import type { RefclockConfig } from "../../config/model.ts";
import type { Instant } from "../../base/time.ts";
import type { LeapStatus } from "../reports.ts";
import type { ReferenceState } from "../types.ts";
import { LOCAL_REFERENCE_ID } from "../reference_report.ts";

/** chrony's PPS_LOCK_LIMIT: largest error of a locked pulse, as a fraction of its interval. */
export const PPS_LOCK_LIMIT = 0.4;

/** The pulse options of a refclock. */
export type PulseOptions = Pick<RefclockConfig, "rate" | "width" | "maxLockAge" | "offset">;

/** The lock refclock's newest sample, as a pulse sees it. */
export interface LockSample {
  /** Cooked time of the sample. */
  time: Instant;
  /** Its offset, seconds. */
  offset: number;
  /** Its root dispersion plus the lock filter's average dispersion, seconds. */
  dispersion: number;
  /** The lock refclock's leap status. */
  leap: LeapStatus;
}

/** What became of a pulse. */
export type PulseResult =
  | { ok: true; offset: number; leap: LeapStatus }
  /** `dropFilter`: the samples held so far are dropped too (the reference went bad). */
  | { ok: false; reason: string; dropFilter: boolean };

/**
 * The pulse's offset from `second` (how far past a pulse-interval boundary the local clock
 * read at the edge) and the `offset` option, folded into [-0.5/rate, 0.5/rate).
 */
export function foldPulseOffset(second: number, o: Pick<PulseOptions, "rate" | "offset">): number {
  const rate = Math.max(1, o.rate);
  let offset = -second + o.offset;
  offset -= Math.trunc(offset * rate) / rate;
  if (offset < -0.5 / rate) offset += 1 / rate;
  else if (offset >= 0.5 / rate) offset -= 1 / rate;
  return offset;
}

/** chrony's check_pulse_edge: false when `offset` or `distance` exceeds the width's margin. */
export function pulseEdgeOk(
  o: Pick<PulseOptions, "rate" | "width">,
  offset: number,
  distance: number,
): boolean {
  if (o.width <= 0) return true;
  const maxError = 0.5 * Math.min(o.width, 1 / Math.max(1, o.rate) - o.width);
  return Math.abs(offset) <= maxError && distance <= maxError;
}

/**
 * A pulse at cooked time `time` locked to `lock` (null: the lock refclock has no sample
 * yet): aligned to the lock sample's offset to a whole number of pulse intervals, refused
 * when the lock sample is too old or disagrees by more than PPS_LOCK_LIMIT of an interval.
 */
export function lockedPulse(
  time: Instant,
  second: number,
  dispersion: number,
  lock: LockSample | null,
  o: PulseOptions,
): PulseResult {
  if (lock === null) return { ok: false, reason: "no lock sample", dropFilter: false };
  const rate = Math.max(1, o.rate);
  let offset = foldPulseOffset(second, o);
  const age = Number(time - lock.time) / 1e9;
  if (Math.abs(age) >= o.maxLockAge / rate) {
    return { ok: false, reason: `lock sample ${age.toFixed(3)} s old`, dropFilter: false };
  }
  offset += Math.round((lock.offset - offset) * rate) / rate;
  const diff = lock.offset - offset;
  if (Math.abs(diff) + lock.dispersion + dispersion > PPS_LOCK_LIMIT / rate) {
    return {
      ok: false,
      reason: `pulse ${diff.toExponential(3)} s off its lock`,
      dropFilter: false,
    };
  }
  if (!pulseEdgeOk(o, diff, 0)) return { ok: false, reason: "wrong pulse edge", dropFilter: false };
  return { ok: true, offset, leap: lock.leap };
}

/** Root distance of the reference at cooked time `time`, seconds. */
export function referenceDistance(ref: ReferenceState, time: Instant): number {
  const age = ref.refTime === 0n ? 0 : Math.max(0, Number(time - ref.refTime) / 1e9);
  return Math.abs(ref.rootDelay) / 2 + ref.rootDispersion + age * ref.dispersionRate;
}

/**
 * A pulse with no lock: the seconds come from the local clock, which must be synchronised
 * with a root distance under half a pulse interval; otherwise the pulse and the samples
 * held so far are dropped.
 */
export function unlockedPulse(
  second: number,
  ref: ReferenceState,
  time: Instant,
  o: PulseOptions,
): PulseResult {
  const rate = Math.max(1, o.rate);
  const offset = foldPulseOffset(second, o);
  const distance = referenceDistance(ref, time);
  if (ref.leap === 3 || distance >= 0.5 / rate) {
    return {
      ok: false,
      reason: ref.leap === 3 ? "clock not synchronised" : `root distance ${distance.toFixed(3)} s`,
      dropFilter: true,
    };
  }
  if (!pulseEdgeOk(o, offset, distance)) {
    return { ok: false, reason: "wrong pulse edge", dropFilter: false };
  }
  return { ok: true, offset, leap: ref.leap };
}

/**
 * chrony's pps_stratum: the stratum of an unlocked PPS refclock's filtered sample - the
 * reference's own (announced minus one) while the reference is this refclock, the local
 * reference (chrony: not synchronised but leap normal; tempus: its refid 127.127.1.1), or
 * another unlocked PPS refclock that is active; otherwise 0.
 */
export function unlockedPulseStratum(
  ref: ReferenceState,
  ownRefId: number,
  isActiveUnlockedPulseRefclock: (refId: number) => boolean,
): number {
  const local = ref.refId === LOCAL_REFERENCE_ID || (!ref.synchronised && ref.leap !== 3);
  if (ref.refId === ownRefId || local) return ref.stratum - 1;
  if (isActiveUnlockedPulseRefclock(ref.refId)) return ref.stratum - 1;
  return 0;
}

/**
 * The pulse offset of a timestamp pair under the `pps` option: the sub-second of the system
 * time minus the sub-second of the device time (chrony: sample nsec minus reference nsec).
 */
export function pulseSecond(rawTime: bigint, offset: number): number {
  const reference = rawTime + BigInt(Math.round(offset * 1e9));
  const frac = (t: bigint) => Number(((t % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  return (frac(rawTime) - frac(reference)) / 1e9;
}
