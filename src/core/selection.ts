/**
 * Source selection (chrony's sources.c): per-source status, the intersection of offset
 * intervals with trust priority and a strict majority, falsetickers, minsources/require,
 * leap-second vote, prefer, scoring with hysteresis, and combining the survivors into the
 * estimate the reference is updated with.
 *
 * Status characters (chronyc selectdata): N noselect, M no valid statistics, s unsynchronised
 * leap, r stratum out of range, d distance > maxdistance, ~ jitter > maxjitter, w waiting for
 * other sources' statistics, S stale/unreachable, O orphan, T untrusted, x falseticker,
 * W waiting for enough sources, P not preferred, U waiting for an update, D distant,
 * + combined, * selected.
 *
 * @module
 */
import type { LeapStatus } from "./reports.ts";
import type { Instant } from "./time.ts";
import { secondsBetween } from "./time.ts";
import type { SelectionData, TrackingData } from "./types.ts";

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
const SILENT_MASK = (1 << SILENT_POLLS) - 1;
/** How much larger a live source's root distance may be for it to replace a silent one. */
export const SILENT_DISTANCE_RATIO = 3;
/**
 * Consecutive polls without a good reply (all failing the tests) after which the selected
 * source is overdue, so a combined source's new sample may update the reference (tempus
 * addition).
 */
export const OVERDUE_POLLS = 2;

/** Internal "OK so far" status (never reported). */
const OK = "ok";

/** Options of the selector (chrony.conf directives of the same names). */
export interface SourceSelectorOptions {
  /** maxdistance, seconds. */
  maxDistance: number;
  /** maxjitter, seconds. */
  maxJitter: number;
  /** minsources. */
  minSources: number;
  /** reselectdist, seconds. */
  reselectDist: number;
  /** stratumweight, seconds per stratum. */
  stratumWeight: number;
  /** combinelimit. */
  combineLimit: number;
  /** maxclockerror, ppm. */
  maxClockError: number;
  /** maxstratum: sources with a larger stratum are not selectable (r). */
  maxStratum: number;
  /** Orphan stratum of `local ... orphan` (null/undefined: no orphan mode). */
  orphanStratum?: number | null;
  /** Our own reference ID, compared with orphan sources' IDs (orphan mode). */
  localRefId?: number;
}

/** One source as selection sees it. */
export interface SelectionCandidate {
  /** Source id. */
  id: number;
  /** noselect option. */
  noselect: boolean;
  /** prefer option. */
  prefer: boolean;
  /** trust option. */
  trust: boolean;
  /** require option. */
  require: boolean;
  /** 8-bit reachability register. */
  reachability: number;
  /** Consecutive polls without a reply. */
  unreachableRun: number;
  /** maxunreach option. */
  maxUnreach: number;
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
   * samples is collecting, not failing (see the first-report rule in `select`).
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

/** Outcome of one selection. */
export interface SelectionResult {
  /** The selected source, or null. */
  selectedId: number | null;
  /** chrony status character per source id. */
  status: Map<number, string>;
  /** Selection score per source id. */
  scores: Map<number, number>;
  /** Offset interval per source id (including the stale-data dispersion). */
  intervals: Map<number, { low: number; high: number }>;
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

/** Per-source memory between selections. */
interface SourceState {
  score: number;
  distant: number;
  updates: number;
  bad: number;
  status: string;
  reported: Set<string>;
  lastInfo: { low: number; high: number; distance: number; stratum: number } | null;
}

interface Working {
  cand: SelectionCandidate;
  st: SourceState;
  status: string;
  low: number;
  high: number;
  distance: number;
  stratum: number;
  leap: LeapStatus;
}

/** The selector: holds scores and the selected source between calls. */
export class SourceSelector {
  readonly #opts: SourceSelectorOptions;
  #states = new Map<number, SourceState>();
  #selectedId: number | null = null;
  #lastUpdatedId: number | null = null;
  #reportSelectionLoss = false;
  #reportedNoMajority = false;
  #forcedFirstReport = false;

  /** Creates a selector with no selected source. */
  constructor(opts: SourceSelectorOptions) {
    this.#opts = { ...opts };
  }

  /** The currently selected source, or null. */
  get selectedId(): number | null {
    return this.#selectedId;
  }

  /** Changes reselectdist (chronyc `reselectdist`). */
  setReselectDistance(distance: number): void {
    this.#opts.reselectDist = distance;
  }

  /** Forgets the selected source so the next selection starts afresh (chronyc `reselect`). */
  reselect(): void {
    this.#selectedId = null;
  }

  /** Forgets a removed or reset source. */
  forget(id: number): void {
    this.#states.delete(id);
    if (this.#selectedId === id) {
      this.#selectedId = null;
      this.#reportSelectionLoss = true;
    }
  }

  #state(id: number): SourceState {
    let st = this.#states.get(id);
    if (st === undefined) {
      st = {
        score: 1,
        distant: 0,
        updates: 0,
        bad: 0,
        status: "M",
        reported: new Set(),
        lastInfo: null,
      };
      this.#states.set(id, st);
    }
    return st;
  }

  /**
   * Runs the selection at `now` over all configured sources. `updatedId` is the source that
   * just got a new sample (null for a reselection without one).
   */
  select(
    now: Instant,
    candidates: readonly SelectionCandidate[],
    updatedId: number | null,
  ): SelectionResult {
    void now;
    const messages: SelectionMessage[] = [];
    const replaceIds: number[] = [];
    let unsynchronise = false;
    const opts = this.#opts;
    const nameOf = (c: SelectionCandidate) => c.name ?? String(c.id);

    if (updatedId !== null) {
      this.#state(updatedId).updates++;
      this.#lastUpdatedId = updatedId;
    }
    // Drop state of sources no longer configured.
    const ids = new Set(candidates.map((c) => c.id));
    for (const id of [...this.#states.keys()]) if (!ids.has(id)) this.forget(id);

    const work: Working[] = candidates.map((cand) => ({
      cand,
      st: this.#state(cand.id),
      status: "M",
      low: 0,
      high: 0,
      distance: 0,
      stratum: cand.selection?.stratum ?? 0,
      leap: cand.selection?.leap ?? 3,
    }));
    const byId = new Map(work.map((w) => [w.cand.id, w]));

    const setStatus = (w: Working, status: string) => {
      w.status = status;
      w.st.status = status;
      if (w.cand.id === this.#lastUpdatedId) {
        if (status === "x" || status === "d" || status === "~") w.st.bad++;
        else w.st.bad = 0;
        if (w.st.bad >= BAD_HANDLE_THRESHOLD && w.cand.isNtp) replaceIds.push(w.cand.id);
      }
    };
    const markSource = (w: Working, status: string) => {
      setStatus(w, status);
      if (w.st.reported.has(status)) return;
      let text: string | null = null;
      let level: SelectionMessage["level"] = "warning";
      switch (status) {
        case "d":
          if (w.st.bad >= BAD_HANDLE_THRESHOLD) {
            text = `Root distance of ${nameOf(w.cand)} exceeds maxdistance of ${
              opts.maxDistance.toFixed(3)
            } seconds`;
          }
          break;
        case "~":
          if (w.st.bad >= BAD_HANDLE_THRESHOLD) {
            text = `Jitter of ${nameOf(w.cand)} exceeds maxjitter of ${
              opts.maxJitter.toFixed(3)
            } seconds`;
          }
          break;
        case "x":
          text = `Detected falseticker ${nameOf(w.cand)}`;
          break;
        case "*":
          text = `Selected source ${nameOf(w.cand)}`;
          level = "info";
          break;
      }
      if (text !== null) {
        messages.push({ level, text });
        w.st.reported.add(status);
      }
    };
    const markOk = (status: string) => {
      for (const w of work) if (w.status === OK) setStatus(w, status);
    };
    const unselect = (level: SelectionMessage["level"], text: string | null) => {
      if (this.#selectedId !== null) {
        this.#selectedId = null;
        this.#reportSelectionLoss = true;
      }
      if (this.#reportSelectionLoss && text !== null) {
        messages.push({ level, text });
        this.#reportSelectionLoss = false;
      }
    };
    const finish = (combined: CombinedEstimate | null): SelectionResult => {
      const status = new Map<number, string>();
      const scores = new Map<number, number>();
      const intervals = new Map<number, { low: number; high: number }>();
      for (const w of work) {
        status.set(w.cand.id, w.status === OK ? "+" : w.status);
        scores.set(w.cand.id, w.st.score);
        if (w.st.lastInfo !== null) {
          intervals.set(w.cand.id, { low: w.st.lastInfo.low, high: w.st.lastInfo.high });
        }
      }
      return {
        selectedId: this.#selectedId,
        status,
        scores,
        intervals,
        combined,
        message: messages.length > 0 ? messages[messages.length - 1].text : null,
        messages,
        unsynchronise,
        replaceIds,
      };
    };

    if (work.length === 0) {
      unselect("warning", "Can't synchronise: no sources");
      return finish(null);
    }

    // Step 1: status of each source and its interval.
    const maxClockError = opts.maxClockError * 1e-6;
    let selRequired = false;
    let nUnreach = 0;
    let nBadStats = 0;
    let maxBadReach = 0;
    let maxBadReachSize = 0;
    let maxStuckReachSize = 0;
    let maxSelReach = 0;
    let maxSelReachSize = 0;
    let maxReachSampleAgo = 0;
    const lastAgo = new Map<number, number>();
    for (const w of work) {
      const c = w.cand;
      const reachSize = c.reachabilitySize ?? SOURCE_REACH_BITS;
      if (c.require) selRequired = true;
      if (c.noselect) {
        markSource(w, "N");
        continue;
      }
      if (c.reachability === 0) nUnreach++;
      const sel = c.selection;
      if (sel === null || !sel.selectOk) {
        nBadStats++;
        markSource(w, "M");
        maxBadReach = Math.max(maxBadReach, c.reachability);
        maxBadReachSize = Math.max(maxBadReachSize, reachSize);
        if ((c.pollsSinceGoodSample ?? reachSize) >= SOURCE_REACH_BITS) {
          maxStuckReachSize = Math.max(maxStuckReachSize, reachSize);
        }
        continue;
      }
      let low = sel.lowLimit;
      let high = sel.highLimit;
      let distance = sel.rootDistance;
      if (sel.firstSampleAgo < 2 * sel.lastSampleAgo) {
        const extra = maxClockError * (2 * sel.lastSampleAgo - sel.firstSampleAgo);
        distance += extra;
        low -= extra;
        high += extra;
      }
      w.low = low;
      w.high = high;
      w.distance = distance;
      w.st.lastInfo = { low, high, distance, stratum: sel.stratum };
      lastAgo.set(c.id, sel.lastSampleAgo);
      if (sel.leap === 3) {
        markSource(w, "s");
        continue;
      }
      if (sel.stratum > opts.maxStratum) {
        markSource(w, "r");
        continue;
      }
      if (!(distance <= opts.maxDistance && low <= high)) {
        markSource(w, "d");
        continue;
      }
      if (sel.stdDev > opts.maxJitter) {
        markSource(w, "~");
        continue;
      }
      w.status = OK; // not a final status
      if (c.reachability !== 0 && maxReachSampleAgo < sel.firstSampleAgo) {
        maxReachSampleAgo = sel.firstSampleAgo;
      }
      maxSelReach = Math.max(maxSelReach, c.reachability);
      maxSelReachSize = Math.max(maxSelReachSize, reachSize);
    }

    // tempus addition (not in chrony): a source whose last SILENT_POLLS polls all went
    // unanswered is stale while another selectable source that still answers has a newer
    // sample and a root distance at most SILENT_DISTANCE_RATIO times larger. chrony keeps
    // such a source selectable until its whole 8-poll reachability register is empty (at
    // poll 10, ~2.4 h of following extrapolated data: P7's dead selected server drifted the
    // clock to 7.1 ms before the switch). A much more distant live source (chrony's 150:
    // 0.5 s one-way) still does not replace it, and with a single source, or when every
    // source is silent (link loss), nothing changes.
    const silent = (c: SelectionCandidate) =>
      (c.reachabilitySize ?? SOURCE_REACH_BITS) >= SILENT_POLLS &&
      (c.reachability & SILENT_MASK) === 0;
    const live = work.filter((w) => w.status === OK && !silent(w.cand));
    const replaceable = (w: Working) =>
      silent(w.cand) &&
      live.some((l) =>
        (lastAgo.get(l.cand.id) ?? Infinity) < (lastAgo.get(w.cand.id) ?? 0) &&
        l.distance <= SILENT_DISTANCE_RATIO * w.distance
      );

    // Step 2: stale unreachable sources and orphans.
    let nSel = 0;
    let orphan: Working | null = null;
    const orphanStratum = opts.orphanStratum ?? null;
    for (const w of work) {
      if (w.status !== OK) continue;
      const c = w.cand;
      if (
        (c.reachability === 0 &&
          (maxReachSampleAgo < (lastAgo.get(c.id) ?? 0) || c.unreachableRun > c.maxUnreach)) ||
        replaceable(w)
      ) {
        markSource(w, "S");
        continue;
      }
      if (orphanStratum !== null && c.isNtp && w.stratum >= orphanStratum) {
        setStatus(w, "O");
        if (
          w.stratum === orphanStratum && c.reachability !== 0 &&
          (orphan === null || (c.refId ?? 0) < (orphan.cand.refId ?? 0))
        ) orphan = w;
        continue;
      }
      nSel++;
    }
    if (nSel === 0 && orphan !== null && opts.localRefId !== undefined) {
      if ((orphan.cand.refId ?? 0) < opts.localRefId) {
        orphan.status = OK;
        nSel = 1;
      }
    }

    const ok = work.filter((w) => w.status === OK);
    const nSelTrust = ok.filter((w) => w.cand.trust).length;

    // Wait for sources with the same polling that still lack statistics (start-up).
    if (
      nBadStats > 0 && nSel > 0 && this.#selectedId === null &&
      maxSelReachSize < SOURCE_REACH_BITS && (maxSelReach >> 1) === maxBadReach
    ) {
      markOk("w");
      unselect("info", null);
      return finish(null);
    }

    // Allow one failed selection to be logged before the first successful one. chrony counts
    // every source whose reachability register is full; tempus leaves out a source without
    // statistics that gave a good sample within its last 8 polls: it is still collecting
    // (filter 15 needs 45 replies for 3 samples, 127; one reply in four arrives, 126), and a
    // "Can't synchronise" warning there would only alarm. A source whose replies all fail the
    // tests for 8 polls (maxdelay) is still reported.
    if (
      !this.#forcedFirstReport &&
      Math.max(maxSelReachSize, maxStuckReachSize) === SOURCE_REACH_BITS
    ) {
      this.#reportSelectionLoss = true;
      this.#forcedFirstReport = true;
    }

    if (ok.length === 0) {
      unselect(
        "warning",
        `Can't synchronise: no selectable sources (${nUnreach} unreachable sources)`,
      );
      return finish(null);
    }

    // Step 3: the intersection, trusted sources first.
    const endpoints: { offset: number; tag: -1 | 1; w: Working }[] = [];
    for (const w of ok) {
      endpoints.push({ offset: w.low, tag: -1, w });
      endpoints.push({ offset: w.high, tag: 1, w });
    }
    endpoints.sort((a, b) => a.offset - b.offset || a.tag - b.tag);
    let depth = 0;
    let trustDepth = 0;
    let bestDepth = 0;
    let bestTrustDepth = 0;
    let bestLow = 0;
    let bestHigh = 0;
    let bestTrustLow = 0;
    let bestTrustHigh = 0;
    for (const e of endpoints) {
      if (e.tag === -1) {
        depth++;
        if (e.w.cand.trust) trustDepth++;
        if (trustDepth > bestTrustDepth || (trustDepth === bestTrustDepth && depth > bestDepth)) {
          if (trustDepth > bestTrustDepth) {
            bestTrustDepth = trustDepth;
            bestTrustLow = e.offset;
          }
          bestDepth = depth;
          bestLow = e.offset;
        }
      } else {
        if (trustDepth === bestTrustDepth) {
          if (depth === bestDepth) bestHigh = e.offset;
          bestTrustHigh = e.offset;
        }
        if (e.w.cand.trust) trustDepth--;
        depth--;
      }
    }
    let nVoters = ok.length;
    if (bestTrustDepth > 0) {
      bestDepth = bestTrustDepth;
      nVoters = nSelTrust;
    }

    if (bestDepth <= Math.floor(nVoters / 2)) {
      if (!this.#reportedNoMajority) {
        const trusted = bestTrustDepth > 0 ? "trusted " : "";
        const detail = bestDepth < 2
          ? `no agreement among ${nVoters} ${trusted}sources`
          : `only ${bestDepth} of ${nVoters} ${trusted}sources agree`;
        messages.push({ level: "warning", text: `Can't synchronise: no majority (${detail})` });
        this.#reportedNoMajority = true;
        this.#reportSelectionLoss = false;
      }
      if (this.#selectedId !== null) {
        unsynchronise = true;
        this.#selectedId = null;
      }
      markOk("x");
      return finish(null);
    }

    // Step 4: survivors are the sources whose interval contains, or lies in, the best one.
    let sel: Working[] = [];
    for (const w of ok) {
      const contains = w.low <= bestLow && w.high >= bestHigh;
      const inside = w.low >= bestLow && w.high <= bestHigh;
      if (contains || inside) {
        if (
          !(bestTrustDepth === 0 || w.cand.trust ||
            (w.low >= bestTrustLow && w.high <= bestTrustHigh))
        ) {
          markSource(w, "T");
          continue;
        }
        sel.push(w);
        if (w.cand.require) selRequired = false;
      } else {
        markSource(w, "x");
      }
    }
    if (sel.length === 0 || selRequired || sel.length < opts.minSources) {
      const what = sel.length === 0 ? "no" : selRequired ? "no required source in" : "not enough";
      unselect("warning", `Can't synchronise: ${what} selectable sources`);
      markOk("W");
      return finish(null);
    }

    // Step 5: leap vote among the survivors (trusted ones if there are any).
    let votes = 0;
    let ins = 0;
    let del = 0;
    for (const w of sel) {
      if (bestTrustDepth > 0 && !w.cand.trust) continue;
      votes++;
      if (w.leap === 1) ins++;
      else if (w.leap === 2) del++;
    }
    const leapVote: LeapStatus = ins > Math.floor(votes / 2)
      ? 1
      : del > Math.floor(votes / 2)
      ? 2
      : 0;

    // Step 6: prefer.
    const preferred = sel.filter((w) => w.cand.prefer);
    const selPrefer = preferred.length > 0;
    if (selPrefer) {
      for (const w of sel) if (!w.cand.prefer) markSource(w, "P");
      sel = preferred;
    }

    // Step 7: scores with hysteresis.
    let minStratum = Infinity;
    for (const w of sel) minStratum = Math.min(minStratum, w.stratum);
    const current = this.#selectedId === null ? null : byId.get(this.#selectedId) ?? null;
    let selDistance = 0;
    if (current !== null) {
      const info = current.st.lastInfo;
      if (info !== null) {
        selDistance = info.distance + (info.stratum - minStratum) * opts.stratumWeight;
      }
    }
    let maxScore = 0;
    let best: Working | null = null;
    for (const w of work) {
      if (w.status !== OK || (selPrefer && !w.cand.prefer)) {
        w.st.score = 1;
        w.st.distant = DISTANT_PENALTY;
        continue;
      }
      let distance = w.distance + (w.stratum - minStratum) * opts.stratumWeight;
      if (w.cand.isNtp) distance += opts.reselectDist;
      if (current !== null) {
        if (w.cand.id === updatedId || current.cand.id === updatedId) {
          w.st.score *= selDistance / distance;
          if (w.st.score < 1) w.st.score = 1;
        }
      } else {
        w.st.score = 1 / distance;
      }
      if (maxScore < w.st.score) {
        maxScore = w.st.score;
        best = w;
      }
    }
    if (best === null) {
      unselect("info", null);
      return finish(null);
    }

    if (
      current === null || current.status !== OK ||
      (best !== current && maxScore > SCORE_LIMIT)
    ) {
      if (best.st.updates === 0) {
        unselect("info", null);
        markOk("U");
        return finish(null);
      }
      this.#selectedId = best.cand.id;
      for (const st of this.#states.values()) {
        st.score = 1;
        st.distant = 0;
        st.reported.clear();
      }
      this.#reportedNoMajority = false;
      this.#reportSelectionLoss = false;
      this.#forcedFirstReport = true;
    }
    const selected = byId.get(this.#selectedId!)!;
    markSource(selected, "*");

    // tempus addition: chrony updates the reference only on a new sample of the selected
    // source. When that source still answers but its last OVERDUE_POLLS replies all failed
    // the tests (test C in congestion) while a combined source has a new sample, the update
    // goes ahead with the selected source's data extrapolated, so the clock is not left on its
    // old frequency for several polls (P5: 3100 s without an update while the offset grew by
    // 4 ms). Counted in polls since a good reply (before any sample filter), so `filter N`
    // and sub-second polling do not make a source overdue. A silent selected source (last
    // poll unanswered) keeps chrony's rule, and so does an update nobody else contributes to.
    const overdue = (w: Working) =>
      w.cand.pollsSinceGoodSample !== undefined && (w.cand.reachability & 1) !== 0 &&
      w.cand.pollsSinceGoodSample >= OVERDUE_POLLS;
    const overdueUpdate = selected.st.updates === 0 && overdue(selected) &&
      sel.some((w) => w !== selected && w.st.updates > 0);
    if (selected.st.updates === 0 && !overdueUpdate) {
      for (const w of sel) {
        if (w.status === OK) setStatus(w, w.st.distant > 0 ? "D" : "+");
      }
      return finish(null);
    }
    for (const st of this.#states.values()) st.updates = 0;

    // Step 8: combine the survivors with the selected source.
    const base = selected.cand.tracking;
    if (base === null) return finish(null);
    const combined = this.#combine(sel, selected, base);
    if (overdueUpdate && combined.combinedCount < 2) return finish(null);
    return finish({ ...combined, stratum: selected.stratum, leapVote });
  }

  #combine(
    sel: Working[],
    selected: Working,
    base: TrackingData,
  ): TrackingData & { combinedCount: number } {
    const opts = this.#opts;
    if (sel.length === 1) {
      return { ...base, combinedCount: 1 };
    }
    let selDistance = selected.distance;
    if (selected.cand.isNtp) selDistance += opts.reselectDist;
    let sumOffsetWeight = 0;
    let sumOffset = 0;
    let sum2OffsetSd = 0;
    let sumFrequencyWeight = 0;
    let sumFrequency = 0;
    let invSum2FrequencySd = 0;
    let invSum2Skew = 0;
    let count = 0;
    for (const w of sel) {
      const tr = w.cand.tracking;
      if (tr === null) continue;
      if (
        w !== selected &&
        (w.distance > opts.combineLimit * selDistance ||
          Math.abs(base.frequencyPpm - tr.frequencyPpm) >
            opts.combineLimit * (base.skewPpm + tr.skewPpm + opts.maxClockError))
      ) {
        // A smaller penalty in the first few updates.
        const reachSize = w.cand.reachabilitySize ?? SOURCE_REACH_BITS;
        w.st.distant = reachSize >= SOURCE_REACH_BITS ? DISTANT_PENALTY : 1;
      } else if (w.st.distant > 0) {
        w.st.distant--;
      }
      if (w.st.distant > 0) {
        w.status = "D";
        w.st.status = "D";
        continue;
      }
      if (w.status === OK) {
        w.status = "+";
        w.st.status = "+";
      }
      const elapsed = secondsBetween(base.refTime, tr.refTime);
      const offset = tr.offset + elapsed * tr.frequencyPpm * 1e-6;
      const offsetSd = tr.offsetSd + elapsed * tr.frequencySdPpm * 1e-6;
      const offsetWeight = 1 / w.distance;
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
    if (count === 0) return { ...base, combinedCount: 1 };
    return {
      ...base,
      offset: sumOffset / sumOffsetWeight,
      offsetSd: Math.sqrt(sum2OffsetSd / sumOffsetWeight),
      frequencyPpm: sumFrequency / sumFrequencyWeight,
      frequencySdPpm: 1 / Math.sqrt(invSum2FrequencySd),
      skewPpm: 1 / Math.sqrt(invSum2Skew),
      combinedCount: count,
    };
  }
}
