/**
 * chronyc `smoothing` on the wire (RPY_Smoothing): the server time smoothing report of
 * core/smoothing.ts. Kept apart from wire_reports.ts (added with smoothtime).
 *
 * @module
 */
import type { SmoothingReport } from "../core/smoothing.ts";
import type { ReplyData } from "./replies.ts";
import type { RPY } from "./constants.ts";

/** RPY_Smoothing flags: 1 active, 2 leap second only. */
export const SMOOTHING_FLAGS = { active: 1, leapOnly: 2 } as const;

/** RPY_Smoothing (chrony's signs are tempus's here: offset > 0 = clients get time ahead). */
export function smoothingToWire(r: SmoothingReport): ReplyData<typeof RPY.SMOOTHING> {
  return {
    flags: (r.active ? SMOOTHING_FLAGS.active : 0) | (r.leapOnly ? SMOOTHING_FLAGS.leapOnly : 0),
    offset: r.offset,
    freqPpm: r.freqPpm,
    wanderPpm: r.wanderPpm,
    lastUpdateAgo: r.lastUpdateAgo,
    remainingTime: r.remainingTime,
  };
}
