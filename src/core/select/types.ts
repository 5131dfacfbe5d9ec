/**
 * Types and constants of source selection (chrony's sources.c): the selector's options, a
 * source as selection sees it, and the outcome of one selection.
 *
 * Status characters (chronyc selectdata): N noselect, M no valid statistics, s unsynchronised
 * leap, r stratum out of range, d distance > maxdistance, ~ jitter > maxjitter, w waiting for
 * other sources' statistics, S stale/unreachable, O orphan, T untrusted, x falseticker,
 * W waiting for enough sources, P not preferred, U waiting for an update, D distant,
 * + combined, * selected.
 *
 * @module
 */
import type { Config, SourceParams } from "../../config/model.ts";
import type { LeapStatus } from "../reports.ts";
import type { SelectionData, TrackingData } from "../types.ts";

// The engine types this API refers to, so the folder documents on its own.
export type { Instant } from "../../base/time.ts";
export type { LeapStatus, SelectionData, TrackingData };

/** Score another source must exceed to replace the selected one. */
export const SCORE_LIMIT = 10;
/** Updates a source stays distant (D) after failing the combine test. */
export const DISTANT_PENALTY = 32;
/** Consecutive bad statuses after which a source is reported for replacement. */
export const BAD_HANDLE_THRESHOLD = 4;
/** Bits in the reachability register. */
export const SOURCE_REACH_BITS = 8;

/**
 * Consecutive unanswered polls after which a source counts as silent (tempus addition):
 * it is then stale for selection while a comparable source still answers.
 */
export const SILENT_POLLS = 4;
/** How much larger a live source's root distance may be for it to replace a silent one. */
export const SILENT_DISTANCE_RATIO = 3;
/**
 * Consecutive polls without a good reply (all failing the tests) after which the selected
 * source is overdue, so a combined source's new sample may update the reference (tempus
 * addition).
 */
export const OVERDUE_POLLS = 2;

/** Options of the selector: the chrony.conf directives of the same names, and these. */
export interface SourceSelectorOptions extends
  Pick<
    Config,
    | "maxDistance"
    | "maxJitter"
    | "minSources"
    | "reselectDist"
    | "stratumWeight"
    | "combineLimit"
    | "maxClockError"
    | "maxStratum"
  > {
  /** Orphan stratum of `local ... orphan` (null/undefined: no orphan mode). */
  orphanStratum?: number | null;
  /** Our own reference ID, compared with orphan sources' IDs (orphan mode). */
  localRefId?: number;
}

/** One source as selection sees it. */
export interface SelectionCandidate
  extends Pick<SourceParams, "noselect" | "prefer" | "trust" | "require" | "maxUnreach"> {
  /** Source id. */
  id: number;
  /** 8-bit reachability register. */
  reachability: number;
  /** Consecutive polls without a reply. */
  unreachableRun: number;
  /** Selection data from the source's statistics at `now` (null: no samples). */
  selection: SelectionData | null;
  /** Tracking data from the source's statistics (null: no samples). */
  tracking: TrackingData | null;
  /** True for NTP sources (reselectdist applies), false for reference clocks. */
  isNtp: boolean;
  /** Name for log messages (address or refclock refid); defaults to the id. */
  name?: string;
  /** Polls shifted into the reachability register so far, 0..8 (default 8). */
  reachabilitySize?: number;
  /**
   * Polls since a reply last passed every test (into the filter or the statistics); by
   * default the reachability size. A source without statistics that is still producing
   * samples is collecting, not failing (see `firstReportDue` in startup.ts).
   */
  pollsSinceGoodSample?: number;
  /** Reference ID of the source (orphan mode tie-break). */
  refId?: number;
}

/** The combined estimate handed to the reference update. */
export interface CombinedEstimate extends TrackingData {
  /** Stratum of the selected source. */
  stratum: number;
  /** Leap status voted by the selectable sources. */
  leapVote: LeapStatus;
  /** Number of sources combined (>= 1). */
  combinedCount: number;
}

/** One log line produced by a selection. */
export interface SelectionMessage {
  /** Severity. */
  level: "info" | "warning";
  /** Text, chrony's wording. */
  text: string;
}

/** An offset interval, seconds (tempus sign). */
export interface OffsetInterval {
  /** Lower limit. */
  low: number;
  /** Upper limit. */
  high: number;
}

/** Outcome of one selection. */
export interface SelectionResult {
  /** The selected source, or null. */
  selectedId: number | null;
  /** chrony status character per source id. */
  status: Map<number, string>;
  /** Selection score per source id. */
  scores: Map<number, number>;
  /** Offset interval per source id (including the stale-data dispersion). */
  intervals: Map<number, OffsetInterval>;
  /**
   * Non-null when the reference should be updated now (the selected source has a new
   * sample, or it is overdue while still answering and a combined source has one): the
   * selected source's tracking data combined with the other survivors.
   */
  combined: CombinedEstimate | null;
  /** The last (most significant) log line of this selection, or null. */
  message: string | null;
  /** Every log line of this selection, in order. */
  messages: SelectionMessage[];
  /** True when the reference must be set unsynchronised now (majority lost). */
  unsynchronise: boolean;
  /** Sources that were bad (x, d, ~) on BAD_HANDLE_THRESHOLD of their updates: replace them. */
  replaceIds: number[];
}

/** The name of a candidate in log messages. */
export function candidateName(c: SelectionCandidate): string {
  return c.name ?? String(c.id);
}

/** The number of polls in a candidate's reachability register (8 when not given). */
export function reachSize(c: SelectionCandidate): number {
  return c.reachabilitySize ?? SOURCE_REACH_BITS;
}
