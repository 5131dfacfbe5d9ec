/**
 * One-shot source selection, pure: falseticker rejection by interval intersection with a
 * strict majority (as chrony's sources.c does), then a weighted combination of the
 * survivors (weights 1/root distance; survivors farther than `combineLimit` times the best
 * distance are left out, like chrony's combinelimit).
 *
 * @module
 */

/** A server's best measurement, as selection sees it. */
export interface SelectionInput {
  /** Caller's label (address). */
  id: string;
  /** Offset, seconds (tempus sign). */
  offset: number;
  /** Root distance, seconds: the half-width of the correctness interval. */
  rootDistance: number;
}

/** The outcome of selection. */
export interface SelectionOutcome {
  /** True when a strict majority of intervals intersect. */
  ok: boolean;
  /** Ids of truechimers (intervals containing or inside the best interval). */
  survivors: string[];
  /** Ids rejected as falsetickers. */
  falsetickers: string[];
  /** Ids of survivors that went into the combined offset. */
  combined: string[];
  /** The intersection interval found, or null without a majority. */
  interval: { low: number; high: number } | null;
  /** Weighted mean offset of the combined survivors (0 when !ok). */
  offset: number;
  /** Root distance of the combination (weighted like chrony: 1/sum(1/d)... bounded by best). */
  rootDistance: number;
  /** A one-line reason when !ok. */
  message: string | null;
}

/** Default combine limit (chrony's `combinelimit`). */
export const DEFAULT_COMBINE_LIMIT = 3;

/**
 * Finds the truechimers among `inputs` and combines them. With no inputs, or without a
 * strict majority (best depth > n/2), `ok` is false and every input is a falseticker.
 */
export function selectAndCombine(
  inputs: SelectionInput[],
  combineLimit = DEFAULT_COMBINE_LIMIT,
): SelectionOutcome {
  const n = inputs.length;
  const fail = (message: string): SelectionOutcome => ({
    ok: false,
    survivors: [],
    falsetickers: inputs.map((i) => i.id),
    combined: [],
    interval: null,
    offset: 0,
    rootDistance: 0,
    message,
  });
  if (n === 0) return fail("no usable measurements");
  // Endpoints: lows sort before highs at equal offsets so touching intervals intersect.
  const points: Array<{ at: number; low: boolean }> = [];
  for (const s of inputs) {
    points.push({ at: s.offset - s.rootDistance, low: true });
    points.push({ at: s.offset + s.rootDistance, low: false });
  }
  points.sort((a, b) => a.at - b.at || (a.low === b.low ? 0 : a.low ? -1 : 1));
  let depth = 0;
  let bestDepth = 0;
  let bestLow = 0;
  let bestHigh = 0;
  for (const point of points) {
    if (point.low) {
      depth++;
      if (depth > bestDepth) {
        bestDepth = depth;
        bestLow = point.at;
      }
    } else {
      if (depth === bestDepth) bestHigh = point.at;
      depth--;
    }
  }
  if (!(bestDepth * 2 > n)) {
    return fail(`no majority: at most ${bestDepth} of ${n} servers agree`);
  }
  const survivors: SelectionInput[] = [];
  const falsetickers: string[] = [];
  for (const s of inputs) {
    const low = s.offset - s.rootDistance;
    const high = s.offset + s.rootDistance;
    const contains = low <= bestLow && high >= bestHigh;
    const inside = low >= bestLow && high <= bestHigh;
    if (contains || inside) survivors.push(s);
    else falsetickers.push(s.id);
  }
  const best = Math.min(...survivors.map((s) => s.rootDistance));
  const combined = survivors.filter((s) => s.rootDistance <= combineLimit * best);
  let weightSum = 0;
  let offsetSum = 0;
  for (const s of combined) {
    const w = 1 / Math.max(s.rootDistance, 1e-9);
    weightSum += w;
    offsetSum += w * s.offset;
  }
  return {
    ok: true,
    survivors: survivors.map((s) => s.id),
    falsetickers,
    combined: combined.map((s) => s.id),
    interval: { low: bestLow, high: bestHigh },
    offset: offsetSum / weightSum,
    rootDistance: best,
    message: null,
  };
}
