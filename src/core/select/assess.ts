/**
 * Step 1 of source selection (chrony's first loop in SRC_SelectSource): each candidate's
 * offset interval, widened for stale data, and the status that rules it out (N, M, s, r, d,
 * ~) or null while it is still selectable; then the counts over all candidates that the
 * later start-up and reporting rules need.
 *
 * @module
 */
import type { LeapStatus } from "../reports.ts";
import type { SelectionData } from "../types.ts";
import {
  reachSize,
  type SelectionCandidate,
  SOURCE_REACH_BITS,
  type SourceSelectorOptions,
} from "./types.ts";

/** A source's offset interval and root distance, seconds. */
export interface SourceInterval {
  /** Lower limit of the offset. */
  low: number;
  /** Upper limit of the offset. */
  high: number;
  /** Root distance (half the interval when nothing was widened). */
  distance: number;
}

/** What step 1 found about one candidate. */
export interface Assessment {
  /** The status ruling the source out (N M s r d ~), or null: selectable so far. */
  status: "N" | "M" | "s" | "r" | "d" | "~" | null;
  /** Interval when the source has valid statistics (also when ruled out by s r d ~). */
  interval: SourceInterval | null;
  /** Stratum from the selection data (0 without). */
  stratum: number;
  /** Leap status from the selection data (3 without). */
  leap: LeapStatus;
}

/** Counts over all candidates after step 1. */
export interface AssessmentSummary {
  /** Some source (even a noselect one) has the require option. */
  requireConfigured: boolean;
  /** Sources (not noselect) with an empty reachability register. */
  unreachable: number;
  /** Sources (not noselect) without valid statistics (M). */
  badStats: number;
  /** Largest reachability register among the M sources. */
  maxBadReach: number;
  /** Largest register size among the M sources. */
  maxBadReachSize: number;
  /**
   * Largest register size among the M sources that went SOURCE_REACH_BITS polls without a
   * good sample (tempus: such a source is stuck, not collecting).
   */
  maxStuckReachSize: number;
  /** Largest reachability register among the selectable sources. */
  maxSelReach: number;
  /** Largest register size among the selectable sources. */
  maxSelReachSize: number;
  /** Largest age of the oldest sample among the selectable, reachable sources (0: none). */
  maxReachSampleAgo: number;
}

/**
 * The offset interval of selection data, widened when the data are stale: if the newest
 * sample is more than half as old as the oldest, the clock may have wandered by
 * maxclockerror over the extra time (`2·last − first` seconds), on both sides.
 */
export function staleWidenedInterval(sel: SelectionData, maxClockErrorPpm: number): SourceInterval {
  let low = sel.lowLimit;
  let high = sel.highLimit;
  let distance = sel.rootDistance;
  if (sel.firstSampleAgo < 2 * sel.lastSampleAgo) {
    const extra = maxClockErrorPpm * 1e-6 * (2 * sel.lastSampleAgo - sel.firstSampleAgo);
    distance += extra;
    low -= extra;
    high += extra;
  }
  return { low, high, distance };
}

/** Step 1 for one candidate: its interval and the status ruling it out, if any. */
export function assessCandidate(c: SelectionCandidate, opts: SourceSelectorOptions): Assessment {
  const stratum = c.selection?.stratum ?? 0;
  const leap = c.selection?.leap ?? 3;
  if (c.noselect) return { status: "N", interval: null, stratum, leap };
  const sel = c.selection;
  // Nothing heard since it was added or since `reset sources`: chrony's leap is still
  // LEAP_Unsynchronised then, and it is checked before the statistics ('s', not 'M').
  if (sel === null && c.reachability === 0) return { status: "s", interval: null, stratum, leap };
  if (sel === null || !sel.selectOk) return { status: "M", interval: null, stratum, leap };
  const interval = staleWidenedInterval(sel, opts.maxClockError);
  const status = sel.leap === 3
    ? "s"
    : sel.stratum > opts.maxStratum
    ? "r"
    : !(interval.distance <= opts.maxDistance && interval.low <= interval.high)
    ? "d"
    : sel.stdDev > opts.maxJitter
    ? "~"
    : null;
  return { status, interval, stratum, leap };
}

/** The counts over all candidates, given each one's assessment (same order). */
export function summarizeAssessments(
  candidates: readonly SelectionCandidate[],
  assessments: readonly Assessment[],
): AssessmentSummary {
  const s: AssessmentSummary = {
    requireConfigured: false,
    unreachable: 0,
    badStats: 0,
    maxBadReach: 0,
    maxBadReachSize: 0,
    maxStuckReachSize: 0,
    maxSelReach: 0,
    maxSelReachSize: 0,
    maxReachSampleAgo: 0,
  };
  candidates.forEach((c, i) => {
    const a = assessments[i];
    const size = reachSize(c);
    if (c.require) s.requireConfigured = true;
    if (a.status === "N") return;
    if (c.reachability === 0) s.unreachable++;
    if (a.status === "M") {
      s.badStats++;
      s.maxBadReach = Math.max(s.maxBadReach, c.reachability);
      s.maxBadReachSize = Math.max(s.maxBadReachSize, size);
      if ((c.pollsSinceGoodSample ?? size) >= SOURCE_REACH_BITS) {
        s.maxStuckReachSize = Math.max(s.maxStuckReachSize, size);
      }
      return;
    }
    if (a.status !== null) return;
    const firstAgo = c.selection!.firstSampleAgo;
    if (c.reachability !== 0 && s.maxReachSampleAgo < firstAgo) s.maxReachSampleAgo = firstAgo;
    s.maxSelReach = Math.max(s.maxSelReach, c.reachability);
    s.maxSelReachSize = Math.max(s.maxSelReachSize, size);
  });
  return s;
}
