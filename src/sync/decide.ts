/**
 * What `tempus sync` does with a combined offset, pure: step, slew or nothing.
 *
 * In the default mode the clock is stepped when |offset| exceeds STEP_THRESHOLD (0.128 s,
 * ntpdate's and ntpd's step threshold) and slewed otherwise, so a clock that is nearly
 * right never jumps. `--step` always steps, `--slew` always slews, `--dry-run` only measures.
 *
 * @module
 */

/** |offset| above which the default mode steps rather than slews, seconds. */
export const STEP_THRESHOLD = 0.128;
/** The kernel's single-shot slew rate (adjtime), for the time-to-correct estimate. */
export const KERNEL_SLEW_RATE = 500e-6;

/** How the user asked to correct the clock. */
export type SyncMode = "auto" | "step" | "slew" | "dry-run";

/** The chosen action. */
export interface SyncDecision {
  /** What to do. */
  action: "step" | "slew" | "none";
  /** Seconds to add to the clock (the offset itself; 0 for none). */
  correction: number;
  /** One line explaining the choice. */
  reason: string;
  /** For a slew: seconds the kernel needs to finish it at 500 ppm. */
  slewSeconds: number;
}

/** Decides how to apply `offset` (reference minus local, seconds) in `mode`. */
export function decideAction(
  offset: number,
  mode: SyncMode,
  threshold = STEP_THRESHOLD,
): SyncDecision {
  const slewSeconds = Math.abs(offset) / KERNEL_SLEW_RATE;
  if (mode === "dry-run") {
    return { action: "none", correction: 0, reason: "dry run: clock not changed", slewSeconds: 0 };
  }
  if (mode === "step") {
    return { action: "step", correction: offset, reason: "step requested", slewSeconds: 0 };
  }
  if (mode === "slew") {
    return { action: "slew", correction: offset, reason: "slew requested", slewSeconds };
  }
  if (Math.abs(offset) > threshold) {
    return {
      action: "step",
      correction: offset,
      reason: `|offset| > ${threshold} s step threshold`,
      slewSeconds: 0,
    };
  }
  return {
    action: "slew",
    correction: offset,
    reason: `|offset| <= ${threshold} s step threshold`,
    slewSeconds,
  };
}
