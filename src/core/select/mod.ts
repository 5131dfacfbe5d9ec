/**
 * Source selection (chrony's sources.c): per-source status, the intersection of offset
 * intervals with trust priority and a strict majority, falsetickers, minsources/require,
 * leap-second vote, prefer, scoring with hysteresis, and combining the survivors into the
 * estimate the reference is updated with. `SourceSelector` runs the steps; each step is a
 * pure function in its own module of this folder.
 *
 * @module
 */
export { SourceSelector } from "./selector.ts";
export {
  BAD_HANDLE_THRESHOLD,
  type CombinedEstimate,
  DISTANT_PENALTY,
  type Instant,
  type LeapStatus,
  type OffsetInterval,
  OVERDUE_POLLS,
  SCORE_LIMIT,
  type SelectionCandidate,
  type SelectionData,
  type SelectionMessage,
  type SelectionResult,
  SILENT_DISTANCE_RATIO,
  SILENT_POLLS,
  SOURCE_REACH_BITS,
  type SourceSelectorOptions,
  type TrackingData,
} from "./types.ts";
