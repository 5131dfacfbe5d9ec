/**
 * Start-up rules of source selection: waiting while sources with the same polling still lack
 * statistics (w), and when the first failed selection may be reported.
 *
 * @module
 */
import type { AssessmentSummary } from "./assess.ts";
import { SOURCE_REACH_BITS } from "./types.ts";

/**
 * True when selection should wait (w) for sources that still lack statistics: nothing is
 * selected yet, no selectable source has a full reachability register, and the sources
 * without statistics have answered as often as the selectable ones, one poll behind.
 */
export function waitForStatistics(
  summary: AssessmentSummary,
  selectable: number,
  haveSelected: boolean,
): boolean {
  return summary.badStats > 0 && selectable > 0 && !haveSelected &&
    summary.maxSelReachSize < SOURCE_REACH_BITS &&
    (summary.maxSelReach >> 1) === summary.maxBadReach;
}

/**
 * True when one failed selection may be logged before the first successful one.
 *
 * chrony counts every source whose reachability register is full; tempus leaves out a source
 * without statistics that gave a good sample within its last 8 polls: it is still collecting
 * (filter 15 needs 45 replies for 3 samples, 127; one reply in four arrives, 126), and a
 * "Can't synchronise" warning there would only alarm. A source whose replies all fail the
 * tests for 8 polls (maxdelay) is still reported.
 */
export function firstReportDue(summary: AssessmentSummary): boolean {
  return Math.max(summary.maxSelReachSize, summary.maxStuckReachSize) === SOURCE_REACH_BITS;
}
