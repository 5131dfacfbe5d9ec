/**
 * What the reference answers with, pure: the reference state the NTP server announces and
 * chronyc's `tracking`, from a snapshot of the reference - synchronised to a source, serving
 * as the local reference, or unsynchronised (manual input keeps its reference in tracking).
 *
 * @module
 */
import type { TrackingReport } from "./reports.ts";
import type { Instant } from "../base/time.ts";
import type { ReferenceState } from "./types.ts";

/** Reference ID of the local reference (127.127.1.1). */
export const LOCAL_REFERENCE_ID = 0x7f7f0101;
/** Reference ID of manual input ("MANU"). */
export const MANUAL_REFERENCE_ID = 0x4d414e55;

/** The reference at one instant. */
export interface ReferenceSnapshot extends Omit<ReferenceState, "synchronised"> {
  /** Cooked time now. */
  now: Instant;
  /** Synchronised to a source (or manual input). */
  synchronised: boolean;
  /** The local reference serves now. */
  localActive: boolean;
  /** Stratum of the local reference (when active). */
  localStratum: number;
  /**
   * When the local reference's 64-second reference-time steps are counted from (the start
   * of the unsynchronised period): a phase of this host's own, so two hosts serving their
   * local reference at the same stratum never announce the same reference time (test D
   * would take either for the other's own reflection, and orphan peers could not follow).
   */
  localAnchor?: Instant;
  /** Reference address, or null. */
  refAddress: string | null;
  /** Root dispersion now, seconds. */
  rootDispersionNow: number;
  /** Clock precision, seconds. */
  precision: number;
  /** maxclockerror, ppm. */
  maxClockError: number;
  /** The tracking figures that do not depend on the state above (read when needed). */
  tracking: () => Pick<
    TrackingReport,
    | "systemTimeOffset"
    | "lastOffset"
    | "rmsOffset"
    | "freqPpm"
    | "residualFreqPpm"
    | "skewPpm"
    | "lastUpdateInterval"
  >;
}

/** The reference state the NTP server answers from. */
export function referenceState(r: ReferenceSnapshot): ReferenceState {
  if (r.synchronised && !r.localActive) {
    return {
      synchronised: true,
      leap: r.leap,
      stratum: Math.min(r.stratum, 16),
      refId: r.refId,
      refTime: r.refTime,
      rootDelay: r.rootDelay,
      rootDispersion: r.rootDispersion,
      dispersionRate: r.dispersionRate,
      precisionLog2: r.precisionLog2,
    };
  }
  if (r.localActive) {
    // The reference time of the local reference is refreshed every 64 s.
    const now = r.now;
    const since = now - (r.localAnchor ?? 0n);
    const ref = now - ((since % 64_000_000_000n) + 64_000_000_000n) % 64_000_000_000n;
    return {
      synchronised: true,
      leap: 0,
      stratum: r.localStratum,
      refId: LOCAL_REFERENCE_ID,
      refTime: ref,
      rootDelay: 0,
      // chrony (reference.c REF_GetReferenceParams) serves a local reference with root
      // delay and root dispersion 0, not growing with the reference time's age.
      rootDispersion: 0,
      dispersionRate: 0,
      precisionLog2: r.precisionLog2,
    };
  }
  return {
    synchronised: false,
    leap: 3,
    stratum: 16,
    refId: 0,
    refTime: r.refTime,
    rootDelay: r.rootDelay,
    rootDispersion: r.rootDispersionNow,
    dispersionRate: r.dispersionRate,
    precisionLog2: r.precisionLog2,
  };
}

/** chronyc `tracking`. */
export function trackingReport(r: ReferenceSnapshot): TrackingReport {
  const base = r.tracking();
  if (r.synchronised && !r.localActive) {
    return {
      ...base,
      refId: r.refId,
      refAddress: r.refAddress,
      stratum: r.stratum,
      leapStatus: r.leap,
      refTime: r.refTime,
      rootDelay: r.rootDelay,
      rootDispersion: r.rootDispersionNow,
      synchronised: true,
    };
  }
  if (r.localActive) {
    return {
      ...base,
      refId: LOCAL_REFERENCE_ID,
      refAddress: null,
      stratum: r.localStratum,
      leapStatus: 0,
      refTime: r.now,
      rootDelay: 0,
      rootDispersion: r.precision,
      synchronised: true,
    };
  }
  const manual = r.refId === MANUAL_REFERENCE_ID;
  return {
    ...base,
    refId: manual ? MANUAL_REFERENCE_ID : 0,
    refAddress: null,
    stratum: manual ? r.stratum : 0,
    leapStatus: 3,
    refTime: manual ? r.refTime : 0n,
    rootDelay: r.rootDelay,
    rootDispersion: r.rootDispersionNow,
    synchronised: false,
  };
}
