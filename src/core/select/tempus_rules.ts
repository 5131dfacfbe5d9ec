/**
 * Selection rules tempus adds to chrony's: a silent source gives way to a comparable one that
 * still answers, and an overdue selected source lets a combined source's new sample update the
 * reference. (The third addition, on when a source without statistics counts towards the
 * first "Can't synchronise" report, is `firstReportDue` in startup.ts.)
 *
 * @module
 */
import {
  OVERDUE_POLLS,
  reachSize,
  type SelectionCandidate,
  SILENT_DISTANCE_RATIO,
  SILENT_POLLS,
} from "./types.ts";

const SILENT_MASK = (1 << SILENT_POLLS) - 1;

/** True when the candidate's last SILENT_POLLS polls all went unanswered. */
export function isSilent(c: SelectionCandidate): boolean {
  return reachSize(c) >= SILENT_POLLS && (c.reachability & SILENT_MASK) === 0;
}

/** A source still selectable after step 1, as the silent-source rule sees it. */
export interface SilentRuleInput {
  /** The candidate. */
  cand: SelectionCandidate;
  /** Root distance with the stale-data widening, seconds. */
  distance: number;
  /** Seconds since the source's newest sample. */
  lastSampleAgo: number;
}

/**
 * Which selectable sources are stale by the silent-source rule, in input order.
 *
 * A source whose last SILENT_POLLS polls all went unanswered is stale while another
 * selectable source that still answers has a newer sample and a root distance at most
 * SILENT_DISTANCE_RATIO times larger. chrony keeps such a source selectable until its whole
 * 8-poll reachability register is empty (at poll 10, ~2.4 h of following extrapolated data:
 * P7's dead selected server drifted the clock to 7.1 ms before the switch). A much more
 * distant live source (chrony's 150: 0.5 s one-way) still does not replace it, and with a
 * single source, or when every source is silent (link loss), nothing changes.
 */
export function silentReplaced(selectable: readonly SilentRuleInput[]): boolean[] {
  const live = selectable.filter((s) => !isSilent(s.cand));
  return selectable.map((s) =>
    isSilent(s.cand) &&
    live.some((l) =>
      l.lastSampleAgo < s.lastSampleAgo && l.distance <= SILENT_DISTANCE_RATIO * s.distance
    )
  );
}

/**
 * True when the candidate still answers (its last poll did) but went OVERDUE_POLLS or more
 * polls without a reply passing the tests. Without `pollsSinceGoodSample` (reference clocks)
 * never.
 */
export function isOverdue(c: SelectionCandidate): boolean {
  return c.pollsSinceGoodSample !== undefined && (c.reachability & 1) !== 0 &&
    c.pollsSinceGoodSample >= OVERDUE_POLLS;
}

/**
 * Whether the reference may be updated although the selected source has no new sample.
 *
 * chrony updates the reference only on a new sample of the selected source. When that source
 * still answers but its last OVERDUE_POLLS replies all failed the tests (test C in
 * congestion) while another survivor has a new sample, the update goes ahead with the
 * selected source's data extrapolated, so the clock is not left on its old frequency for
 * several polls (P5: 3100 s without an update while the offset grew by 4 ms). Counted in polls
 * since a good reply (before any sample filter), so `filter N` and sub-second polling do not
 * make a source overdue. A silent selected source (last poll unanswered) keeps chrony's rule,
 * and so does an update nobody else contributes to (checked after combining).
 */
export function overdueUpdate(
  selected: SelectionCandidate,
  selectedUpdated: boolean,
  otherSurvivorUpdated: boolean,
): boolean {
  return !selectedUpdated && isOverdue(selected) && otherSurvivorUpdated;
}
