/**
 * Steps 4 to 6 of source selection: falseticker rejection (a survivor's interval contains, or
 * lies in, the best intersection; x otherwise; T when it is not trusted and lies outside the
 * trusted intersection), the require and minsources conditions, the leap-second vote, and
 * prefer.
 *
 * @module
 */
import type { LeapStatus } from "../reports.ts";
import type { Intersection, VotingInterval } from "./intersection.ts";

/** What step 4 makes of one selectable source. */
export type SurvivorVerdict = "survivor" | "T" | "x";

/** Step 4 for one source against the best intersection. */
export function survivorVerdict(v: VotingInterval, x: Intersection): SurvivorVerdict {
  const contains = v.low <= x.low && v.high >= x.high;
  const inside = v.low >= x.low && v.high <= x.high;
  if (!contains && !inside) return "x";
  const trusted = x.trustDepth === 0 || v.trust || (v.low >= x.trustLow && v.high <= x.trustHigh);
  return trusted ? "survivor" : "T";
}

/**
 * chrony's "Can't synchronise: ... selectable sources" line when the survivors do not allow a
 * selection (none, no required source among them while one is configured, fewer than
 * minsources), or null when they do.
 */
export function insufficientSurvivors(
  survivors: readonly { require: boolean }[],
  requireConfigured: boolean,
  minSources: number,
): string | null {
  const requireUnmet = requireConfigured && !survivors.some((s) => s.require);
  if (survivors.length > 0 && !requireUnmet && survivors.length >= minSources) return null;
  const what = survivors.length === 0
    ? "no"
    : requireUnmet
    ? "no required source in"
    : "not enough";
  return `Can't synchronise: ${what} selectable sources`;
}

/**
 * Step 5: the leap status more than half the voting survivors announce (only the trusted
 * ones vote when `trustedOnly`), else 0.
 */
export function leapVote(
  survivors: readonly { leap: LeapStatus; trust: boolean }[],
  trustedOnly: boolean,
): LeapStatus {
  let votes = 0;
  let ins = 0;
  let del = 0;
  for (const s of survivors) {
    if (trustedOnly && !s.trust) continue;
    votes++;
    if (s.leap === 1) ins++;
    else if (s.leap === 2) del++;
  }
  return ins > Math.floor(votes / 2) ? 1 : del > Math.floor(votes / 2) ? 2 : 0;
}

/**
 * Step 6: the survivors with the prefer option, or null when none has it (then every
 * survivor stays).
 */
export function preferredSurvivors<T>(
  survivors: readonly T[],
  prefer: (s: T) => boolean,
): T[] | null {
  const preferred = survivors.filter(prefer);
  return preferred.length > 0 ? preferred : null;
}
