/**
 * The source selector (chrony's SRC_SelectSource): keeps each source's score and the selected
 * source between calls and runs the steps of selection in order, each a pure function of its
 * own module: status and intervals (assess.ts), stale sources and orphans (stale.ts, with
 * tempus's silent-source rule from tempus_rules.ts), start-up waiting (startup.ts), the
 * intersection and majority (intersection.ts), falsetickers, require/minsources, leap vote
 * and prefer (survivors.ts), scores with hysteresis (score.ts) and combining (combine.ts).
 * This class applies their verdicts: status characters, log lines, and the state that
 * carries over to the next selection.
 *
 * @module
 */
import type { LeapStatus } from "../reports.ts";
import type { Instant } from "../../base/time.ts";
import { assessCandidate, summarizeAssessments } from "./assess.ts";
import { combineSources } from "./combine.ts";
import { hasMajority, intersect, noMajorityText } from "./intersection.ts";
import { isBadStatus, statusMessage } from "./messages.ts";
import { type CurrentSource, scoreSources, shouldReselect, stratumDistance } from "./score.ts";
import { staleAndOrphans } from "./stale.ts";
import { firstReportDue, waitForStatistics } from "./startup.ts";
import {
  insufficientSurvivors,
  leapVote,
  preferredSurvivors,
  survivorVerdict,
} from "./survivors.ts";
import { overdueUpdate, silentReplaced } from "./tempus_rules.ts";
import {
  BAD_HANDLE_THRESHOLD,
  candidateName,
  type CombinedEstimate,
  DISTANT_PENALTY,
  type OffsetInterval,
  reachSize,
  type SelectionCandidate,
  type SelectionMessage,
  type SelectionResult,
  type SourceSelectorOptions,
} from "./types.ts";

/** Per-source memory between selections. */
interface SourceState {
  score: number;
  distant: number;
  updates: number;
  bad: number;
  reported: Set<string>;
  lastInfo: { low: number; high: number; distance: number; stratum: number } | null;
}

/** One source during one selection; `status` null means selectable so far. */
interface Working {
  cand: SelectionCandidate;
  st: SourceState;
  status: string | null;
  low: number;
  high: number;
  distance: number;
  stratum: number;
  leap: LeapStatus;
  lastSampleAgo: number;
}

/** The log lines and replacement requests one selection collects. */
interface Outputs {
  messages: SelectionMessage[];
  replaceIds: number[];
  unsynchronise: boolean;
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

  /** Changes minsources (raised while NTS certificates are not fully verified). */
  setMinSources(count: number): void {
    this.#opts.minSources = count;
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
      st = { score: 1, distant: 0, updates: 0, bad: 0, reported: new Set(), lastInfo: null };
      this.#states.set(id, st);
    }
    return st;
  }

  /** Sets a status, counting bad statuses of the last updated source. */
  #setStatus(out: Outputs, w: Working, status: string): void {
    w.status = status;
    if (w.cand.id !== this.#lastUpdatedId) return;
    if (isBadStatus(status)) w.st.bad++;
    else w.st.bad = 0;
    if (w.st.bad >= BAD_HANDLE_THRESHOLD && w.cand.isNtp) out.replaceIds.push(w.cand.id);
  }

  /** Sets a status and logs its line once until the next reselection. */
  #mark(out: Outputs, w: Working, status: string): void {
    this.#setStatus(out, w, status);
    if (w.st.reported.has(status)) return;
    const message = statusMessage(status, candidateName(w.cand), w.st.bad, this.#opts);
    if (message !== null) {
      out.messages.push(message);
      w.st.reported.add(status);
    }
  }

  /** Gives every source still selectable the status `status`. */
  #markSelectable(out: Outputs, work: readonly Working[], status: string): void {
    for (const w of work) if (w.status === null) this.#setStatus(out, w, status);
  }

  /** Drops the selected source; logs `text` if the loss is still to be reported. */
  #unselect(out: Outputs, level: SelectionMessage["level"], text: string | null): void {
    if (this.#selectedId !== null) {
      this.#selectedId = null;
      this.#reportSelectionLoss = true;
    }
    if (this.#reportSelectionLoss && text !== null) {
      out.messages.push({ level, text });
      this.#reportSelectionLoss = false;
    }
  }

  #finish(
    out: Outputs,
    work: readonly Working[],
    combined: CombinedEstimate | null,
  ): SelectionResult {
    const status = new Map<number, string>();
    const scores = new Map<number, number>();
    const intervals = new Map<number, OffsetInterval>();
    for (const w of work) {
      status.set(w.cand.id, w.status ?? "+");
      scores.set(w.cand.id, w.st.score);
      if (w.st.lastInfo !== null) {
        intervals.set(w.cand.id, { low: w.st.lastInfo.low, high: w.st.lastInfo.high });
      }
    }
    const messages = out.messages;
    return {
      selectedId: this.#selectedId,
      status,
      scores,
      intervals,
      combined,
      message: messages.length > 0 ? messages[messages.length - 1].text : null,
      messages,
      unsynchronise: out.unsynchronise,
      replaceIds: out.replaceIds,
    };
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
    const opts = this.#opts;
    const out: Outputs = { messages: [], replaceIds: [], unsynchronise: false };

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
      lastSampleAgo: 0,
    }));
    const finish = (combined: CombinedEstimate | null) => this.#finish(out, work, combined);

    if (work.length === 0) {
      this.#unselect(out, "warning", "Can't synchronise: no sources");
      return finish(null);
    }

    // Step 1: status of each source and its interval.
    const assessments = candidates.map((c) => assessCandidate(c, opts));
    const summary = summarizeAssessments(candidates, assessments);
    work.forEach((w, i) => {
      const a = assessments[i];
      if (a.interval !== null) {
        const { low, high, distance } = a.interval;
        w.low = low;
        w.high = high;
        w.distance = distance;
        w.st.lastInfo = { low, high, distance, stratum: a.stratum };
        w.lastSampleAgo = w.cand.selection!.lastSampleAgo;
      }
      if (a.status === null) w.status = null;
      else this.#mark(out, w, a.status);
    });

    // Step 2: stale unreachable and silent sources, and orphans.
    const alive = work.filter((w) => w.status === null);
    const silent = silentReplaced(alive);
    const stale = staleAndOrphans(
      alive.map((w, i) => ({
        cand: w.cand,
        stratum: w.stratum,
        lastSampleAgo: w.lastSampleAgo,
        silentReplaced: silent[i],
      })),
      summary.maxReachSampleAgo,
      { stratum: opts.orphanStratum ?? null, localRefId: opts.localRefId },
    );
    alive.forEach((w, i) => {
      const s = stale.status[i];
      if (s === "S") this.#mark(out, w, "S");
      else if (s === "O") this.#setStatus(out, w, "O");
    });
    if (stale.promoted !== null) alive[stale.promoted].status = null;
    const ok = work.filter((w) => w.status === null);

    if (waitForStatistics(summary, stale.selectable, this.#selectedId !== null)) {
      this.#markSelectable(out, work, "w");
      this.#unselect(out, "info", null);
      return finish(null);
    }
    if (!this.#forcedFirstReport && firstReportDue(summary)) {
      this.#reportSelectionLoss = true;
      this.#forcedFirstReport = true;
    }
    if (ok.length === 0) {
      this.#unselect(
        out,
        "warning",
        `Can't synchronise: no selectable sources (${summary.unreachable} unreachable sources)`,
      );
      return finish(null);
    }

    // Step 3: the intersection, trusted sources first.
    const voting = ok.map((w) => ({ low: w.low, high: w.high, trust: w.cand.trust }));
    const x = intersect(voting);
    if (!hasMajority(x)) {
      if (!this.#reportedNoMajority) {
        out.messages.push({ level: "warning", text: noMajorityText(x) });
        this.#reportedNoMajority = true;
        this.#reportSelectionLoss = false;
      }
      if (this.#selectedId !== null) {
        out.unsynchronise = true;
        this.#selectedId = null;
      }
      this.#markSelectable(out, work, "x");
      return finish(null);
    }

    // Step 4: survivors are the sources whose interval contains, or lies in, the best one.
    let sel: Working[] = [];
    ok.forEach((w, i) => {
      const verdict = survivorVerdict(voting[i], x);
      if (verdict === "survivor") sel.push(w);
      else this.#mark(out, w, verdict);
    });
    const insufficient = insufficientSurvivors(
      sel.map((w) => w.cand),
      summary.requireConfigured,
      opts.minSources,
    );
    if (insufficient !== null) {
      this.#unselect(out, "warning", insufficient);
      this.#markSelectable(out, work, "W");
      return finish(null);
    }

    // Step 5: leap vote among the survivors (trusted ones if there are any).
    const vote = leapVote(
      sel.map((w) => ({ leap: w.leap, trust: w.cand.trust })),
      x.trustDepth > 0,
    );

    // Step 6: prefer.
    const preferred = preferredSurvivors(sel, (w) => w.cand.prefer);
    const selPrefer = preferred !== null;
    if (preferred !== null) {
      for (const w of sel) if (!w.cand.prefer) this.#mark(out, w, "P");
      sel = preferred;
    }

    // Step 7: scores with hysteresis.
    let minStratum = Infinity;
    for (const w of sel) minStratum = Math.min(minStratum, w.stratum);
    const byId = new Map(work.map((w) => [w.cand.id, w]));
    const current = this.#selectedId === null ? null : byId.get(this.#selectedId) ?? null;
    let currentSource: CurrentSource | null = null;
    if (current !== null) {
      const info = current.st.lastInfo;
      currentSource = {
        distance: info === null
          ? 0
          : stratumDistance(info.distance, info.stratum, minStratum, opts.stratumWeight),
        updated: current.cand.id === updatedId,
      };
    }
    const scored = scoreSources(
      work.map((w) => ({
        eligible: w.status === null && !(selPrefer && !w.cand.prefer),
        distance: w.distance,
        stratum: w.stratum,
        isNtp: w.cand.isNtp,
        score: w.st.score,
        updated: w.cand.id === updatedId,
      })),
      currentSource,
      { minStratum, stratumWeight: opts.stratumWeight, reselectDist: opts.reselectDist },
    );
    work.forEach((w, i) => {
      w.st.score = scored.scores[i];
      if (scored.penalised[i]) w.st.distant = DISTANT_PENALTY;
    });
    if (scored.best === null) {
      this.#unselect(out, "info", null);
      return finish(null);
    }
    const best = work[scored.best];
    if (shouldReselect(current?.status === null, best === current, scored.maxScore)) {
      if (best.st.updates === 0) {
        this.#unselect(out, "info", null);
        this.#markSelectable(out, work, "U");
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
    this.#mark(out, selected, "*");

    // The reference is updated on a new sample of the selected source, or (tempus) of another
    // survivor while the selected source is overdue.
    const overdue = overdueUpdate(
      selected.cand,
      selected.st.updates > 0,
      sel.some((w) => w !== selected && w.st.updates > 0),
    );
    if (selected.st.updates === 0 && !overdue) {
      for (const w of sel) {
        if (w.status === null) this.#setStatus(out, w, w.st.distant > 0 ? "D" : "+");
      }
      return finish(null);
    }
    for (const st of this.#states.values()) st.updates = 0;

    // Step 8: combine the survivors with the selected source.
    const base = selected.cand.tracking;
    if (base === null) return finish(null);
    const combined = combineSources(
      sel.map((w) => ({
        tracking: w.cand.tracking,
        distance: w.distance,
        reachabilitySize: reachSize(w.cand),
        distant: w.st.distant,
      })),
      sel.indexOf(selected),
      base,
      {
        combineLimit: opts.combineLimit,
        maxClockError: opts.maxClockError,
        selectedMargin: selected.cand.isNtp ? opts.reselectDist : 0,
      },
    );
    sel.forEach((w, i) => {
      w.st.distant = combined.distant[i];
      const o = combined.outcome[i];
      if (o === "D" || (o === "+" && w.status === null)) w.status = o;
    });
    if (overdue && combined.combinedCount < 2) return finish(null);
    return finish({
      ...combined.estimate,
      combinedCount: combined.combinedCount,
      stratum: selected.stratum,
      leapVote: vote,
    });
  }
}
