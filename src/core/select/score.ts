/**
 * Step 7 of source selection: scores with hysteresis. A source's distance for scoring is its
 * root distance plus stratumweight per stratum above the lowest survivor's (plus reselectdist
 * for NTP sources); scores grow by the ratio of the selected source's distance to the
 * source's own on each update of either, and another source replaces the selected one only
 * once its score exceeds SCORE_LIMIT.
 *
 * @module
 */
import type { Config } from "../../config/model.ts";
import { SCORE_LIMIT } from "./types.ts";

/** One source as scoring sees it. */
export interface ScoreInput {
  /** Survivor of steps 1-6 (not ruled out, preferred when prefer is in use). */
  eligible: boolean;
  /** Root distance, seconds. */
  distance: number;
  /** Stratum. */
  stratum: number;
  /** NTP source (reselectdist applies). */
  isNtp: boolean;
  /** Score before this selection. */
  score: number;
  /** This source got the new sample. */
  updated: boolean;
}

/** What scoring knows about the currently selected source. */
export interface CurrentSource {
  /** Its scoring distance (`stratumDistance` of its last interval). */
  distance: number;
  /** It got the new sample. */
  updated: boolean;
}

/** Scoring settings. */
export interface ScoreSettings extends Pick<Config, "stratumWeight" | "reselectDist"> {
  /** Lowest stratum among the survivors. */
  minStratum: number;
}

/** Outcome of scoring. */
export interface ScoreOutcome {
  /** New score per input (1 for a source not eligible). */
  scores: number[];
  /** Per input: not eligible, so it becomes distant (D) for DISTANT_PENALTY updates. */
  penalised: boolean[];
  /** Index of the first eligible source with the highest score, or null. */
  best: number | null;
  /** That score (0 when none). */
  maxScore: number;
}

/** Root distance plus stratumweight per stratum above `minStratum`. */
export function stratumDistance(
  distance: number,
  stratum: number,
  minStratum: number,
  stratumWeight: number,
): number {
  return distance + (stratum - minStratum) * stratumWeight;
}

/**
 * Scores every source. Without a selected source (`current` null) a score is the inverse of
 * the scoring distance; with one, a score is multiplied by current / own distance (at least
 * 1) when this source or the selected one got the new sample, and kept otherwise.
 */
export function scoreSources(
  inputs: readonly ScoreInput[],
  current: CurrentSource | null,
  settings: ScoreSettings,
): ScoreOutcome {
  const scores: number[] = [];
  const penalised: boolean[] = [];
  let best: number | null = null;
  let maxScore = 0;
  for (let i = 0; i < inputs.length; i++) {
    const s = inputs[i];
    if (!s.eligible) {
      scores.push(1);
      penalised.push(true);
      continue;
    }
    penalised.push(false);
    let distance = stratumDistance(
      s.distance,
      s.stratum,
      settings.minStratum,
      settings.stratumWeight,
    );
    if (s.isNtp) distance += settings.reselectDist;
    let score = s.score;
    if (current !== null) {
      if (s.updated || current.updated) {
        score *= current.distance / distance;
        if (score < 1) score = 1;
      }
    } else {
      score = 1 / distance;
    }
    scores.push(score);
    if (maxScore < score) {
      maxScore = score;
      best = i;
    }
  }
  return { scores, penalised, best, maxScore };
}

/**
 * True when the best-scoring source becomes the selected one: nothing is selected, the
 * selected source is no longer a survivor, or another source's score exceeds SCORE_LIMIT.
 */
export function shouldReselect(
  currentSurvives: boolean,
  bestIsCurrent: boolean,
  maxScore: number,
): boolean {
  return !currentSurvives || (!bestIsCurrent && maxScore > SCORE_LIMIT);
}
