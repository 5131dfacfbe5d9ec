/**
 * A scripted clock model for real-time tests: "true time" as a function of the host clock,
 * `true(h) = h + offsetAt(h − origin)`, with an initial offset, a base frequency, frequency
 * steps at given times and a seeded random-walk frequency wander. A test NTP server that
 * serves true time from this model (tests/helpers/scripted_server.ts) lets clients sharing
 * the host clock be scored against a known truth: a client's error is its estimate of true
 * time minus `true(h)`, its frequency error its rate estimate minus `freqAt`.
 *
 * Sign convention: `freqPpm` > 0 means true time runs fast of the host clock (so a client
 * should report its host clock as that many ppm slow).
 *
 * @module
 */
import { gaussian, seededRandom } from "./random.ts";

/** A frequency step of the script. */
export interface FrequencyStep {
  /** When, seconds after the origin. */
  atS: number;
  /** The base frequency from then on, ppm (the wander still adds to it). */
  freqPpm: number;
}

/** What the scripted clock does. */
export interface ClockScript {
  /** true − host at the origin, seconds (default 0). */
  offsetS?: number;
  /** Base frequency of true time relative to the host clock, ppm (default 0). */
  freqPpm?: number;
  /** Frequency steps, in any order. */
  steps?: readonly FrequencyStep[];
  /** Random-walk frequency wander, ppm per √s (default 0: none). */
  wanderPpmPerSqrtS?: number;
  /** Seed of the wander (default 1). */
  seed?: number;
  /** How long the wander is tabulated, seconds (default 3600; constant after). */
  horizonS?: number;
}

/** A scripted clock: offset and frequency of true time relative to the host clock. */
export interface ScriptedClock {
  /** true − host at `tS` seconds after the origin, seconds (before the origin: as at 0). */
  offsetAt(tS: number): number;
  /** Frequency of true time relative to the host at `tS`, ppm. */
  freqAt(tS: number): number;
}

/** Wander is tabulated on a 1 s grid: the frequency is constant within each second. */
const WANDER_STEP_S = 1;

/** Builds the clock model of `script`; throws on a script that is not finite. */
export function scriptedClock(script: ClockScript): ScriptedClock {
  const offset0 = script.offsetS ?? 0;
  const base0 = script.freqPpm ?? 0;
  const steps = [...(script.steps ?? [])].sort((a, b) => a.atS - b.atS);
  const wander = script.wanderPpmPerSqrtS ?? 0;
  const horizon = script.horizonS ?? 3600;
  const numbers = [offset0, base0, wander, horizon, ...steps.flatMap((s) => [s.atS, s.freqPpm])];
  if (!numbers.every(Number.isFinite) || wander < 0 || horizon <= 0 || horizon > 1e6) {
    throw new RangeError("scripted clock: every figure must be finite, wander ≥ 0, horizon > 0");
  }
  // Wander: frequency per grid cell, and the offset it has accumulated at each cell start.
  const cells = wander > 0 ? Math.ceil(horizon / WANDER_STEP_S) : 0;
  const wanderFreq = new Float64Array(cells);
  const wanderOffset = new Float64Array(cells + 1);
  const rnd = seededRandom(script.seed ?? 1);
  let f = 0;
  for (let k = 0; k < cells; k++) {
    wanderFreq[k] = f;
    wanderOffset[k + 1] = wanderOffset[k] + f * 1e-6 * WANDER_STEP_S;
    f += wander * Math.sqrt(WANDER_STEP_S) * gaussian(rnd);
  }
  // Base frequency: piecewise constant segments starting at 0 and at each step (≥ 0).
  const segStart = [0];
  const segFreq = [base0];
  for (const s of steps) {
    if (s.atS <= 0) {
      segFreq[0] = s.freqPpm;
      continue;
    }
    segStart.push(s.atS);
    segFreq.push(s.freqPpm);
  }
  const segOffset = [0];
  for (let i = 1; i < segStart.length; i++) {
    segOffset.push(segOffset[i - 1] + segFreq[i - 1] * 1e-6 * (segStart[i] - segStart[i - 1]));
  }
  const segmentOf = (t: number) => {
    let i = 0;
    while (i + 1 < segStart.length && segStart[i + 1] <= t) i++;
    return i;
  };
  const wanderFreqAt = (t: number) => {
    if (cells === 0) return 0;
    const k = Math.min(Math.floor(t / WANDER_STEP_S), cells - 1);
    return wanderFreq[k];
  };
  const wanderOffsetAt = (t: number) => {
    if (cells === 0) return 0;
    const k = Math.min(Math.floor(t / WANDER_STEP_S), cells - 1);
    return wanderOffset[k] + wanderFreq[k] * 1e-6 * (t - k * WANDER_STEP_S);
  };
  return {
    offsetAt(tS: number): number {
      const t = Math.max(0, tS);
      const i = segmentOf(t);
      return offset0 + segOffset[i] + segFreq[i] * 1e-6 * (t - segStart[i]) + wanderOffsetAt(t);
    },
    freqAt(tS: number): number {
      const t = Math.max(0, tS);
      return segFreq[segmentOf(t)] + wanderFreqAt(t);
    },
  };
}
