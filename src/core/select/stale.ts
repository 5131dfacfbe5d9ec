/**
 * Step 2 of source selection: sources that are stale (unreachable with older data than every
 * reachable source, unreachable for more than maxunreach polls, or silent by tempus's rule)
 * get S, and in orphan mode sources at or above the orphan stratum get O, the one with the
 * smallest reference ID at the orphan stratum coming back when nothing else is selectable
 * and its ID is smaller than ours.
 *
 * @module
 */
import type { SelectionCandidate } from "./types.ts";

/** A source still selectable after step 1. */
export interface StaleInput {
  /** The candidate. */
  cand: SelectionCandidate;
  /** Its stratum. */
  stratum: number;
  /** Seconds since its newest sample. */
  lastSampleAgo: number;
  /** Stale by the silent-source rule (see `silentReplaced`). */
  silentReplaced: boolean;
}

/** Orphan-mode settings. */
export interface OrphanSettings {
  /** Orphan stratum (null: not in orphan mode). */
  stratum: number | null;
  /** Our own reference ID (undefined: never promote an orphan). */
  localRefId: number | undefined;
}

/** Outcome of step 2. */
export interface StaleOutcome {
  /** S, O or null (still selectable) per input, in input order. */
  status: ("S" | "O" | null)[];
  /** Index of the orphan (marked O) that is selectable after all, or null. */
  promoted: number | null;
  /** Sources still selectable, counting a promoted orphan. */
  selectable: number;
}

/** True when an unreachable source's data are stale (chrony's S). */
export function isStaleUnreachable(
  c: SelectionCandidate,
  lastSampleAgo: number,
  maxReachSampleAgo: number,
): boolean {
  return c.reachability === 0 &&
    (maxReachSampleAgo < lastSampleAgo || c.unreachableRun > c.maxUnreach);
}

/**
 * Step 2 over the sources still selectable; `maxReachSampleAgo` is the largest age of the
 * oldest sample among the selectable, reachable ones (`AssessmentSummary`).
 */
export function staleAndOrphans(
  inputs: readonly StaleInput[],
  maxReachSampleAgo: number,
  orphan: OrphanSettings,
): StaleOutcome {
  const status: ("S" | "O" | null)[] = [];
  let selectable = 0;
  let best: number | null = null;
  for (let i = 0; i < inputs.length; i++) {
    const s = inputs[i];
    const c = s.cand;
    if (isStaleUnreachable(c, s.lastSampleAgo, maxReachSampleAgo) || s.silentReplaced) {
      status.push("S");
      continue;
    }
    if (orphan.stratum !== null && c.isNtp && s.stratum >= orphan.stratum) {
      status.push("O");
      if (
        s.stratum === orphan.stratum && c.reachability !== 0 &&
        (best === null || (c.refId ?? 0) < (inputs[best].cand.refId ?? 0))
      ) best = i;
      continue;
    }
    status.push(null);
    selectable++;
  }
  let promoted: number | null = null;
  if (selectable === 0 && best !== null && orphan.localRefId !== undefined) {
    if ((inputs[best].cand.refId ?? 0) < orphan.localRefId) {
      promoted = best;
      selectable = 1;
    }
  }
  return { status, promoted, selectable };
}
