/**
 * Fixtures for the source-selection tests (src/core/select): options, selection data and
 * candidates with defaults that make a good, selectable source, and a compact `Spec` for
 * scenarios of several sources.
 *
 * @module
 */
import type {
  Instant,
  LeapStatus,
  SelectionCandidate,
  SelectionData,
  SelectionResult,
  SourceSelector,
  SourceSelectorOptions,
} from "../../src/core/select/mod.ts";

// The selection API the fixtures use, so this file documents on its own.
export type * from "../../src/core/select/mod.ts";

/** The instant every selection test runs at. */
export const NOW: Instant = 1_700_000_000n * 1_000_000_000n;

/** Selector options of the tests (maxdistance 3 s, maxjitter 1 s, combinelimit 3). */
export const OPTS: SourceSelectorOptions = {
  maxDistance: 3,
  maxJitter: 1,
  minSources: 1,
  reselectDist: 1e-4,
  stratumWeight: 1e-3,
  combineLimit: 3,
  maxClockError: 1,
  maxStratum: 15,
};

/** Selection data of a good stratum-2 source at offset 0, distance 1 ms. */
export function selectionData(over: Partial<SelectionData> = {}): SelectionData {
  return {
    stratum: 2,
    leap: 0,
    offset: 0,
    lowLimit: -0.001,
    highLimit: 0.001,
    rootDistance: 0.001,
    stdDev: 1e-4,
    firstSampleAgo: 1000,
    lastSampleAgo: 10,
    selectOk: true,
    ...over,
  };
}

/** A reachable NTP candidate with `selectionData()` and no tracking data. */
export function candidate(over: Partial<SelectionCandidate> = {}): SelectionCandidate {
  return {
    id: 1,
    noselect: false,
    prefer: false,
    trust: false,
    require: false,
    reachability: 0xff,
    unreachableRun: 0,
    maxUnreach: 100_000,
    selection: selectionData(),
    tracking: null,
    isNtp: true,
    ...over,
  };
}

/** A source in a few fields. */
export interface Spec {
  /** Source id (name 10.0.0.id). */
  id: number;
  /** Offset, seconds. */
  offset: number;
  /** Root distance, seconds (default 1 ms). */
  distance?: number;
  /** Jitter, seconds (default 100 µs). */
  stdDev?: number;
  /** Stratum (default 2). */
  stratum?: number;
  /** Leap status (default 0). */
  leap?: LeapStatus;
  /** Frequency, ppm (default 0). */
  freqPpm?: number;
  /** Skew, ppm (default 0.05). */
  skewPpm?: number;
  /** noselect option. */
  noselect?: boolean;
  /** prefer option. */
  prefer?: boolean;
  /** trust option. */
  trust?: boolean;
  /** require option. */
  require?: boolean;
  /** Reachability register (default 0xff). */
  reachability?: number;
  /** Polls without a reply (default 0). */
  unreachableRun?: number;
  /** selectOk of the statistics; null: no statistics at all. */
  selectOk?: boolean | null;
  /** Seconds since the oldest sample (default 1000). */
  firstAgo?: number;
  /** Seconds since the newest sample (default 10). */
  lastAgo?: number;
}

/** The candidate a spec describes, with tracking data. */
export function cand(s: Spec): SelectionCandidate {
  const distance = s.distance ?? 0.001;
  return {
    id: s.id,
    name: `10.0.0.${s.id}`,
    noselect: s.noselect ?? false,
    prefer: s.prefer ?? false,
    trust: s.trust ?? false,
    require: s.require ?? false,
    reachability: s.reachability ?? 0xff,
    unreachableRun: s.unreachableRun ?? 0,
    maxUnreach: 100000,
    isNtp: true,
    selection: s.selectOk === null ? null : {
      stratum: s.stratum ?? 2,
      leap: s.leap ?? 0,
      offset: s.offset,
      lowLimit: s.offset - distance,
      highLimit: s.offset + distance,
      rootDistance: distance,
      stdDev: s.stdDev ?? 1e-4,
      firstSampleAgo: s.firstAgo ?? 1000,
      lastSampleAgo: s.lastAgo ?? 10,
      selectOk: s.selectOk ?? true,
    },
    tracking: {
      refTime: NOW,
      offset: s.offset,
      offsetSd: 1e-4,
      frequencyPpm: s.freqPpm ?? 0,
      frequencySdPpm: 0.01,
      skewPpm: s.skewPpm ?? 0.05,
      rootDelay: distance,
      rootDispersion: distance / 2,
    },
  };
}

/** Runs one update of each source in turn and returns the last result. */
export function round(sel: SourceSelector, specs: Spec[]): SelectionResult {
  const cs = specs.map(cand);
  let r: SelectionResult | null = null;
  for (const c of cs) r = sel.select(NOW, cs, c.id);
  return r!;
}

/** The log lines of `rounds` rounds of updates. */
export function allMessages(sel: SourceSelector, specs: Spec[], rounds: number): string[] {
  const out: string[] = [];
  const cs = specs.map(cand);
  for (let i = 0; i < rounds; i++) {
    for (const c of cs) out.push(...sel.select(NOW, cs, c.id).messages.map((m) => m.text));
  }
  return out;
}
