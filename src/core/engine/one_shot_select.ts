/**
 * Selection for a one-shot measurement of several servers (`tempus sync`): each server's
 * best sample becomes a selection candidate and core's own `SourceSelector` rejects the
 * falsetickers (interval intersection with a majority), picks the best source and combines
 * the survivors, exactly as the daemon does with statistics.
 *
 * @module
 */
import { defaultConfig } from "../../config/defaults.ts";
import type { SelectionCandidate, SelectionResult } from "../select/mod.ts";
import { newSelector } from "./source_factory.ts";
import type { Instant } from "../../base/time.ts";
import type { NtpSample } from "../types.ts";

/** One server's best sample, as selection sees it. */
export interface OneShotInput
  extends Pick<NtpSample, "offset" | "rootDelay" | "rootDispersion" | "stratum" | "leap"> {
  /** Caller's label (address). */
  id: string;
  /** Root distance, seconds: the half-width of the correctness interval. */
  rootDistance: number;
}

/** The outcome of one-shot selection. */
export interface OneShotSelection {
  /** True when a source was selected (a majority agrees). */
  ok: boolean;
  /** chrony status character per id (`*` selected, `+` combined, `x` falseticker, ...). */
  status: Map<string, string>;
  /** Ids of truechimers (selected, combined, or kept out of the combination only). */
  survivors: string[];
  /** Ids rejected as falsetickers. */
  falsetickers: string[];
  /** Ids that went into the combined offset. */
  combined: string[];
  /** Combined offset, seconds (0 when !ok). */
  offset: number;
  /** Root distance of the selected source, seconds (0 when !ok). */
  rootDistance: number;
  /** A one-line reason when !ok. */
  message: string | null;
}

/** Status characters of sources that passed the intersection. */
const SURVIVOR = new Set(["*", "+", "D", "P", "U"]);

/** Frequency error bound assumed for a single sample, ppm (chrony's initial skew). */
const SINGLE_SAMPLE_SKEW_PPM = 2000;

/**
 * Runs core's selection over one best sample per server, at cooked time `now`; with the
 * default selection options (maxdistance, combinelimit, ...) of the configuration.
 */
export function selectOneShot(inputs: OneShotInput[], now: Instant): OneShotSelection {
  const config = defaultConfig();
  const selector = newSelector(config, undefined);
  const candidates: SelectionCandidate[] = inputs.map((s, i) => ({
    id: i,
    noselect: false,
    prefer: false,
    trust: false,
    require: false,
    reachability: 0xff,
    unreachableRun: 0,
    maxUnreach: 100000,
    selection: {
      stratum: s.stratum,
      leap: s.leap,
      offset: s.offset,
      lowLimit: s.offset - s.rootDistance,
      highLimit: s.offset + s.rootDistance,
      rootDistance: s.rootDistance,
      stdDev: 0,
      firstSampleAgo: 0,
      lastSampleAgo: 0,
      selectOk: true,
    },
    tracking: {
      refTime: now,
      offset: s.offset,
      offsetSd: 0,
      frequencyPpm: 0,
      frequencySdPpm: SINGLE_SAMPLE_SKEW_PPM,
      skewPpm: SINGLE_SAMPLE_SKEW_PPM,
      rootDelay: s.rootDelay,
      rootDispersion: s.rootDispersion,
    },
    isNtp: true,
    name: s.id,
    reachabilitySize: 8,
    pollsSinceGoodSample: 0,
  }));
  // Every server's sample arrives in turn, as in the daemon; the estimate is the one made
  // when the selected source's sample was taken in.
  let last: SelectionResult | null = null;
  let estimate: SelectionResult | null = null;
  let said: string | null = null;
  for (const c of candidates) {
    last = selector.select(now, candidates, c.id);
    if (last.combined !== null) estimate = last;
    said = last.message ?? said;
  }
  const result = estimate ?? last;
  const status = new Map<string, string>();
  inputs.forEach((s, i) => status.set(s.id, result?.status.get(i) ?? "?"));
  const ids = (pred: (c: string) => boolean) =>
    inputs.filter((s) => pred(status.get(s.id)!)).map((s) => s.id);
  const combined = result?.combined ?? null;
  const selected = result?.selectedId ?? null;
  if (combined === null || selected === null) {
    const why = said ?? (inputs.length === 0 ? "no usable measurements" : null);
    return {
      ok: false,
      status,
      survivors: [],
      falsetickers: inputs.map((s) => s.id),
      combined: [],
      offset: 0,
      rootDistance: 0,
      message: why === null ? "no source selected" : why.replace(/^Can't synchronise: /, ""),
    };
  }
  return {
    ok: true,
    status,
    survivors: ids((c) => SURVIVOR.has(c)),
    falsetickers: ids((c) => c === "x"),
    combined: ids((c) => c === "*" || c === "+"),
    offset: combined.offset,
    rootDistance: inputs[selected].rootDistance,
    message: null,
  };
}
