/**
 * The engine's reports on its sources (chronyc sources, sourcestats, selectdata, activity),
 * pure functions over the sources and the newest selection.
 *
 * @module
 */
import { refIdFromAddress } from "../../ntp/packet.ts";
import type {
  ActivityReport,
  SelectDataReport,
  SourceReport,
  SourceState,
  SourceStatsReport,
} from "../reports.ts";
import type { SelectionResult } from "../select/mod.ts";
import type { Source, SourceMode } from "../source/source.ts";
import type { Instant } from "../../base/time.ts";

/** Options bits of selectdata: noselect, prefer, trust, require. */
const OPTION_BITS = { noselect: 1, prefer: 2, trust: 4, require: 8 } as const;

/** The `sources` state of each chrony status character (any other: nonselectable). */
const STATES: Record<string, SourceState> = {
  "*": "selected",
  "+": "unselected",
  x: "falseticker",
  "~": "jittery",
  D: "selectable",
  P: "selectable",
  U: "selectable",
};

/** Maps a chrony status character onto the `sources` state. */
export function sourceState(status: string | undefined): SourceState {
  return status !== undefined && Object.hasOwn(STATES, status) ? STATES[status] : "nonselectable";
}

/** chronyc `sources`. */
export function sourcesReport(
  sources: Iterable<Source>,
  result: SelectionResult | null,
  now: Instant,
): SourceReport[] {
  const out: SourceReport[] = [];
  for (const s of sources) {
    const last = s.stats.lastSample();
    const t = s.lastSampleTime;
    out.push({
      id: s.id,
      address: s.addressText,
      name: s.name,
      poll: s.poll,
      stratum: s.ntpData(now).stratum,
      state: sourceState(result?.status.get(s.id)),
      mode: s.type === "refclock" ? "refclock" : s.type === "peer" ? "peer" : "client",
      reachability: s.reachability,
      sinceSample: t === null ? null : Math.max(0, Number(now - t) / 1e9),
      origLatestOffset: s.stats.lastOriginalOffset() ?? 0,
      latestOffset: last?.offset ?? 0,
      latestError: last ? last.rootDelay / 2 + last.rootDispersion : 0,
    });
  }
  return out;
}

/** chronyc `sourcestats`. */
export function sourceStatsReport(sources: Iterable<Source>, now: Instant): SourceStatsReport[] {
  return [...sources].map((s) => ({
    id: s.id,
    refId: 0,
    address: s.addressText,
    ...s.stats.report(now),
  }));
}

/** chronyc `selectdata`. */
export function selectDataReport(
  sources: Iterable<Source>,
  result: SelectionResult | null,
  now: Instant,
): SelectDataReport[] {
  return [...sources].map((s) => {
    const p = s.params;
    const opts = (p.noselect ? OPTION_BITS.noselect : 0) | (p.prefer ? OPTION_BITS.prefer : 0) |
      (p.trust ? OPTION_BITS.trust : 0) | (p.require ? OPTION_BITS.require : 0);
    const sel = s.stats.selectionData(now);
    const iv = result?.intervals.get(s.id);
    return {
      id: s.id,
      address: s.addressText,
      refId: refIdFromAddress(s.addressText) ?? 0,
      stateChar: result?.status.get(s.id) ?? "M",
      authenticated: p.key !== null,
      leap: sel?.leap ?? 3,
      configuredOptions: opts,
      effectiveOptions: opts,
      lastSampleAgo: sel?.lastSampleAgo ?? 0,
      score: result?.scores.get(s.id) ?? 0,
      lowLimit: iv?.low ?? 0,
      highLimit: iv?.high ?? 0,
    };
  });
}

/** The `activity` counter of each operating mode. */
const ACTIVITY_COUNTERS: Record<SourceMode, keyof ActivityReport> = {
  online: "online",
  offline: "offline",
  "burst-online": "burstOnline",
  "burst-offline": "burstOffline",
};

/** chronyc `activity` (unresolved names are the daemon's to add). */
export function activityReport(sources: Iterable<Source>): ActivityReport {
  const a: ActivityReport = {
    online: 0,
    offline: 0,
    burstOnline: 0,
    burstOffline: 0,
    unresolved: 0,
  };
  for (const s of sources) a[ACTIVITY_COUNTERS[s.mode]]++;
  return a;
}
