/**
 * Step 3 of source selection: the intersection of the offset intervals (Marzullo's
 * algorithm as chrony runs it), the trusted sources first, and the majority test.
 *
 * @module
 */

/** A selectable source's interval, as the intersection sees it. */
export interface VotingInterval {
  /** Lower limit of the offset, seconds. */
  low: number;
  /** Upper limit of the offset, seconds. */
  high: number;
  /** trust option. */
  trust: boolean;
}

/** The best intersection found. */
export interface Intersection {
  /** Intervals overlapping the best intersection (the trusted depth when any is trusted). */
  depth: number;
  /** Trusted intervals overlapping the best trusted intersection (0: none trusted). */
  trustDepth: number;
  /** Lower limit of the best intersection. */
  low: number;
  /** Upper limit of the best intersection. */
  high: number;
  /** Lower limit of the best trusted intersection. */
  trustLow: number;
  /** Upper limit of the best trusted intersection. */
  trustHigh: number;
  /** Sources that vote: all, or only the trusted ones when any overlap. */
  voters: number;
}

/**
 * Sweeps the interval endpoints in order (a low end before a high end at the same offset)
 * and keeps the deepest overlap, the trusted depth counting first. With trusted intervals,
 * only they vote.
 */
export function intersect(intervals: readonly VotingInterval[]): Intersection {
  const endpoints: { offset: number; tag: -1 | 1; trust: boolean }[] = [];
  for (const v of intervals) {
    endpoints.push({ offset: v.low, tag: -1, trust: v.trust });
    endpoints.push({ offset: v.high, tag: 1, trust: v.trust });
  }
  endpoints.sort((a, b) => a.offset - b.offset || a.tag - b.tag);
  let depth = 0;
  let trustDepth = 0;
  let bestDepth = 0;
  let bestTrustDepth = 0;
  let bestLow = 0;
  let bestHigh = 0;
  let bestTrustLow = 0;
  let bestTrustHigh = 0;
  for (const e of endpoints) {
    if (e.tag === -1) {
      depth++;
      if (e.trust) trustDepth++;
      if (trustDepth > bestTrustDepth || (trustDepth === bestTrustDepth && depth > bestDepth)) {
        if (trustDepth > bestTrustDepth) {
          bestTrustDepth = trustDepth;
          bestTrustLow = e.offset;
        }
        bestDepth = depth;
        bestLow = e.offset;
      }
    } else {
      if (trustDepth === bestTrustDepth) {
        if (depth === bestDepth) bestHigh = e.offset;
        bestTrustHigh = e.offset;
      }
      if (e.trust) trustDepth--;
      depth--;
    }
  }
  let voters = intervals.length;
  if (bestTrustDepth > 0) {
    bestDepth = bestTrustDepth;
    voters = intervals.filter((v) => v.trust).length;
  }
  return {
    depth: bestDepth,
    trustDepth: bestTrustDepth,
    low: bestLow,
    high: bestHigh,
    trustLow: bestTrustLow,
    trustHigh: bestTrustHigh,
    voters,
  };
}

/** True when more than half the voters agree on the best intersection. */
export function hasMajority(x: Intersection): boolean {
  return x.depth > Math.floor(x.voters / 2);
}

/** chrony's "Can't synchronise: no majority (...)" line for an intersection without one. */
export function noMajorityText(x: Intersection): string {
  const trusted = x.trustDepth > 0 ? "trusted " : "";
  const detail = x.depth < 2
    ? `no agreement among ${x.voters} ${trusted}sources`
    : `only ${x.depth} of ${x.voters} ${trusted}sources agree`;
  return `Can't synchronise: no majority (${detail})`;
}
