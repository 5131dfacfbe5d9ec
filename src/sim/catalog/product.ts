/**
 * Scenarios for tempus's own claims (P1-P7 of docs/accuracy.md): short link windows,
 * congestion, a sudden rate jump, ±50 000 ppm clocks, realistic WAN and pool setups, and a
 * temperature-driven oscillator.
 *
 * @module
 */
import type { ScenarioAction, ScenarioContext, ScenarioResult } from "../scenario.ts";
import { settleTime, windowStats } from "../metrics.ts";
import type { CatalogEntry } from "./entry.ts";
import { formatSeconds, loggedBetween, twoWay } from "./criteria.ts";

/** Link windows of P1: up `upFor` s at the start of every `period` s. */
const P1_WINDOWS = { period: 10_000, upFor: 300 };

/** Actions telling the engine when the link goes up and down (NetworkManager-style). */
function onOfflineActions(duration: number): ScenarioAction[] {
  const actions: ScenarioAction[] = [];
  for (let t = 0; t < duration; t += P1_WINDOWS.period) {
    if (t > 0) actions.push({ at: t, run: (ctx) => setAllOnline(ctx, true) });
    actions.push({ at: t + P1_WINDOWS.upFor, run: (ctx) => setAllOnline(ctx, false) });
  }
  return actions;
}

function setAllOnline(ctx: ScenarioContext, online: boolean): void {
  if (!ctx.engine.setConnectivity) throw new Error("engine has no setConnectivity");
  ctx.engine.setConnectivity({ address: null, mask: null }, online);
}

/** chrony 014's limits for intermittent links. */
const INTERMITTENT_LIMITS = { timeMax: 0.1, freqMax: 1e-2, timeRms: 2e-3, freqRms: 2e-5 };

/** chrony 007's limits for a clock whose frequency moves a lot. */
const WANDER_LIMITS = { timeMax: 5e-3, freqMax: 5e-3, timeRms: 1e-3, freqRms: 1e-4 };

/** The figure of a whole run: max and RMS offset. */
function maxAndRms(r: ScenarioResult): string {
  return `max ${formatSeconds(r.metrics.maxOffset)}, RMS ${formatSeconds(r.metrics.rmsOffset)}`;
}

/** Scenarios for tempus's own claims and for realistic oscillators and networks. */
export function productScenarios(): CatalogEntry[] {
  const list: CatalogEntry[] = [];
  const p1Figure = (r: ScenarioResult) =>
    `max offset after sync ${formatSeconds(r.metrics.maxOffset)}, RMS ${
      formatSeconds(r.metrics.rmsOffset)
    }, ` +
    `${r.transport.received} replies`;
  list.push({
    id: "P1-short-windows",
    title: "reference reachable 300 s of every 10 000 s (chrony 014 clock), 100 000 s",
    spec: {
      name: "P1",
      duration: 100_000,
      servers: [{ path: { linkWindows: P1_WINDOWS } }],
      limits: INTERMITTENT_LIMITS,
    },
    figure: p1Figure,
  });
  list.push({
    id: "P1-short-windows onoffline",
    title: "as P1, told online/offline as the link goes up/down (iburst)",
    spec: {
      name: "P1b",
      duration: 100_000,
      servers: [{ path: { linkWindows: P1_WINDOWS } }],
      sourceParams: { iburst: true },
      actions: onOfflineActions(100_000),
      limits: { ...INTERMITTENT_LIMITS, minSyncTime: 0 },
    },
    figure: p1Figure,
  });
  list.push({
    id: "P2-congestion",
    title: "1 ms path, 4 h of 10 ms + 40 ms·Exp extra one-way delay each way",
    spec: {
      name: "P2",
      duration: 28_800,
      servers: [{
        path: {
          ...twoWay(1e-3),
          congestion: [{ from: 7200, to: 7200 + 14_400, extraBase: 0.01, extraJitter: 0.04 }],
        },
      }],
      limits: { timeMax: 5e-3, timeRms: 1e-3 },
    },
    figure: (r) => {
      const w = windowStats(r.offsets, 7200, 21_600);
      return `during congestion: max ${formatSeconds(w.max)}, RMS ${formatSeconds(w.rms)}`;
    },
  });
  const settle = (r: ScenarioResult) => settleTime(r.offsets, 20_000, 1e-4, 300);
  list.push({
    id: "P3-rate-jump",
    title: "sudden +10 ppm frequency step at 20 000 s (chrony 007 limits)",
    spec: {
      name: "P3",
      duration: 40_000,
      clock: { freqSteps: [{ at: 20_000, delta: 1e-5 }] },
      limits: WANDER_LIMITS,
    },
    criteria: {
      "back under 100 µs": (r) => {
        const t = settle(r);
        return t !== null && t <= 2048
          ? []
          : [`300-s RMS offset not back under 100 µs within 2048 s of the jump (${t})`];
      },
    },
    figure: (r) =>
      `peak ${formatSeconds(windowStats(r.offsets, 20_000).max)}, 300-s RMS back under 100 µs ` +
      `${settle(r)} s after the jump`,
  });
  for (const freq of [-5e-2, 5e-2]) {
    list.push({
      id: `P4-50000ppm ${freq > 0 ? "+" : "-"}`,
      title: `${freq * 1e6} ppm clock, 0.1 s off, iburst, makestep 1 3`,
      spec: {
        name: `P4 ${freq}`,
        duration: 10_000,
        clock: { freq, offset: 0.1 },
        sourceParams: { iburst: true },
        config: { makeStep: { threshold: 1, limit: 3 } },
        limits: { minSyncTime: 0, maxSyncTime: 1000 },
      },
      figure: (r) => `sync ${r.metrics.syncTime} s, then max ${formatSeconds(r.metrics.maxOffset)}`,
    });
  }
  list.push({
    id: "P5-realistic",
    title: "3 WAN servers (5-25 ms, fixed asymmetry), daily 3 ppm sine + wander, " +
      "8 h/day of one-way congestion",
    spec: {
      name: "P5",
      duration: 172_800,
      clock: { freq: 3e-5, wander: 2e-9, sine: { amplitude: 3e-6, period: 86_400 } },
      servers: [5e-3, 12e-3, 25e-3].map((base, i) => ({
        path: {
          up: { base, jitter: 5e-4 * (i + 1) },
          // A fixed 10 % path asymmetry: an offset error of 0.25-1.25 ms NTP cannot see.
          down: { base: base * 0.9, jitter: 5e-4 * (i + 1) },
          congestion: [0, 1].map((d) => ({
            from: d * 86_400 + 32_400,
            to: d * 86_400 + 61_200,
            extraJitter: 4e-3,
            direction: "down" as const,
          })),
        },
      })),
      sourceParams: { iburst: true },
      config: { makeStep: { threshold: 1, limit: 3 } },
      // "Within a few milliseconds over the Internet" (chrony's README claim).
      limits: { minSyncTime: 0, maxSyncTime: 1000, timeMax: 5e-3, timeRms: 2e-3 },
    },
    figure: maxAndRms,
  });
  list.push({
    id: "P7-pool",
    title: "4 WAN servers (10-30 ms): one 50 ms falseticker, one gone after a day",
    spec: {
      name: "P7",
      duration: 172_800,
      clock: { freq: -4e-5, wander: 2e-9, sine: { amplitude: 1e-6, period: 86_400 } },
      servers: [10e-3, 15e-3, 20e-3, 30e-3].map((base, i) => ({
        offset: i === 2 ? 0.05 : 0,
        path: { ...twoWay(base, 1e-3), ...(i === 0 ? { drop: (t: number) => t >= 86_400 } : {}) },
      })),
      sourceParams: { iburst: true },
      config: { makeStep: { threshold: 1, limit: 3 } },
      limits: { minSyncTime: 0, maxSyncTime: 1000, timeMax: 5e-3, timeRms: 2e-3 },
    },
    criteria: {
      // With only a few samples after iburst the intervals are tens of ms wide and may all
      // overlap, so chrony's rules can pick the nearest (false) source for a moment (seen at
      // 4.9 s and 71 s); never once the statistics have settled.
      "falseticker not selected after 300 s": (r) =>
        loggedBetween(r, "Selected source 192.168.123.3", 300, Infinity) > 0
          ? ["the 50 ms falseticker was selected after 300 s"]
          : [],
    },
    figure: maxAndRms,
  });
  list.push({
    id: "P6-temperature",
    title: "LAN, 1 ppm/12 min temperature cycle + 0.5 ppm steps + wander (chrony 007 limits)",
    spec: {
      name: "P6",
      duration: 86_400,
      clock: {
        freq: -2e-5,
        wander: 3e-9,
        sine: { amplitude: 1e-6, period: 720 },
        freqSteps: [{ at: 30_000, delta: 5e-7 }, { at: 60_000, delta: -5e-7 }],
      },
      limits: WANDER_LIMITS,
    },
    figure: maxAndRms,
  });
  return list;
}
