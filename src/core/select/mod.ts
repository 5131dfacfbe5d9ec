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
  type Instant,
  type LeapStatus,
  type SelectionCandidate,
  type SelectionData,
  type SelectionResult,
  type SourceSelectorOptions,
} from "./types.ts";
