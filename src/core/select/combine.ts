/**
 * Step 8 of source selection: combining the survivors' estimates with the selected source's
 * (chrony's combine_sources). A survivor much farther than the selected source
 * (combinelimit times its distance) or whose frequency disagrees beyond combinelimit times
 * the skews becomes distant (D) for a while; the others are averaged, offsets weighted by
 * the inverse root distance and frequencies by the inverse variance.
 *
 * @module
 */
import type { Config } from "../../config/model.ts";
import { secondsBetween } from "../../base/time.ts";
import type { TrackingData } from "../types.ts";
import { DISTANT_PENALTY, SOURCE_REACH_BITS } from "./types.ts";

/** One survivor as combining sees it. */
export interface CombineInput {
  /** Its tracking data (null: nothing to combine, left untouched). */
  tracking: TrackingData | null;
  /** Root distance, seconds. */
  distance: number;
  /** Polls in its reachability register. */
  reachabilitySize: number;
  /** Updates it stays distant (0: not distant). */
  distant: number;
}

/** Settings of combining. */
export interface CombineSettings extends Pick<Config, "combineLimit" | "maxClockError"> {
  /** The selected source's scoring margin: reselectdist for an NTP source, else 0. */
  selectedMargin: number;
}

/** Outcome of combining. */
export interface CombineOutcome {
  /** The estimate: the selected source's data when nothing else was combined. */
  estimate: TrackingData;
  /** Sources combined, the selected one included (>= 1). */
  combinedCount: number;
  /** New distant count per input. */
  distant: number[];
  /** Per input: "D" (distant), "+" (combined) or null (untouched). */
  outcome: ("D" | "+" | null)[];
}

/** True when a survivor is too far from, or too different to, the selected source. */
export function tooDistant(
  tr: TrackingData,
  distance: number,
  base: TrackingData,
  selectedDistance: number,
  settings: CombineSettings,
): boolean {
  return distance > settings.combineLimit * selectedDistance ||
    Math.abs(base.frequencyPpm - tr.frequencyPpm) >
      settings.combineLimit * (base.skewPpm + tr.skewPpm + settings.maxClockError);
}

/**
 * Combines the survivors (`selected` is the index of the selected source, whose tracking
 * data is `base`). With one survivor nothing changes.
 */
export function combineSources(
  inputs: readonly CombineInput[],
  selected: number,
  base: TrackingData,
  settings: CombineSettings,
): CombineOutcome {
  const distant = inputs.map((s) => s.distant);
  const outcome: ("D" | "+" | null)[] = inputs.map(() => null);
  if (inputs.length === 1) return { estimate: base, combinedCount: 1, distant, outcome };
  const selDistance = inputs[selected].distance + settings.selectedMargin;
  let sumOffsetWeight = 0;
  let sumOffset = 0;
  let sum2OffsetSd = 0;
  let sumFrequencyWeight = 0;
  let sumFrequency = 0;
  let invSum2FrequencySd = 0;
  let invSum2Skew = 0;
  let count = 0;
  for (let i = 0; i < inputs.length; i++) {
    const s = inputs[i];
    const tr = s.tracking;
    if (tr === null) continue;
    if (i !== selected && tooDistant(tr, s.distance, base, selDistance, settings)) {
      // A smaller penalty in the first few updates.
      distant[i] = s.reachabilitySize >= SOURCE_REACH_BITS ? DISTANT_PENALTY : 1;
    } else if (distant[i] > 0) {
      distant[i]--;
    }
    if (distant[i] > 0) {
      outcome[i] = "D";
      continue;
    }
    outcome[i] = "+";
    const elapsed = secondsBetween(base.refTime, tr.refTime);
    const offset = tr.offset + elapsed * tr.frequencyPpm * 1e-6;
    const offsetSd = tr.offsetSd + elapsed * tr.frequencySdPpm * 1e-6;
    const offsetWeight = 1 / s.distance;
    const freqSd = Math.max(tr.frequencySdPpm, 1e-6);
    const frequencyWeight = 1 / (freqSd * freqSd);
    sumOffsetWeight += offsetWeight;
    sumOffset += offsetWeight * offset;
    sum2OffsetSd += offsetWeight * (offsetSd * offsetSd + (offset - base.offset) ** 2);
    sumFrequencyWeight += frequencyWeight;
    sumFrequency += frequencyWeight * tr.frequencyPpm;
    invSum2FrequencySd += 1 / (freqSd * freqSd);
    invSum2Skew += 1 / (tr.skewPpm * tr.skewPpm);
    count++;
  }
  if (count === 0) return { estimate: base, combinedCount: 1, distant, outcome };
  return {
    estimate: {
      ...base,
      offset: sumOffset / sumOffsetWeight,
      offsetSd: Math.sqrt(sum2OffsetSd / sumOffsetWeight),
      frequencyPpm: sumFrequency / sumFrequencyWeight,
      frequencySdPpm: 1 / Math.sqrt(invSum2FrequencySd),
      skewPpm: 1 / Math.sqrt(invSum2Skew),
    },
    combinedCount: count,
    distant,
    outcome,
  };
}
