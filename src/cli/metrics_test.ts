import assert from "node:assert/strict";
import {
  serverStats3ToWire,
  serverStats4ToWire,
  sourceStatsToWire,
  sourceToWire,
  trackingToWire,
} from "../cmdmon/wire_reports.ts";
import type { ServerStatsReport } from "../core/reports.ts";
import {
  serverStatsFromWire,
  sourceFromWire,
  sourceStatsFromWire,
  trackingFromWire,
} from "./metrics.ts";

Deno.test("metrics: tracking, sources and sourcestats come back from the wire in tempus signs", () => {
  const tracking = {
    refId: 0xc0000201,
    refAddress: "192.0.2.1",
    stratum: 3,
    leapStatus: 0 as const,
    refTime: 1_780_000_000_123_456_789n,
    systemTimeOffset: 1.5e-5,
    lastOffset: -2.5e-6,
    rmsOffset: 3e-6,
    freqPpm: 12.5,
    residualFreqPpm: -0.125,
    skewPpm: 0.25,
    rootDelay: 1e-3,
    rootDispersion: 5e-4,
    lastUpdateInterval: 64,
    synchronised: true,
  };
  const t = trackingFromWire(trackingToWire(tracking));
  assert.deepEqual(t, { ...t, ...tracking, systemTimeOffset: t.systemTimeOffset });
  assert.ok(Math.abs(t.systemTimeOffset - 1.5e-5) < 1e-9);
  const source = {
    id: 2,
    address: "192.0.2.7",
    name: null,
    poll: 6,
    stratum: 2,
    state: "selected" as const,
    mode: "client" as const,
    reachability: 0o377,
    sinceSample: 12,
    origLatestOffset: 0.5,
    latestOffset: -0.25,
    latestError: 0.125,
  };
  assert.deepEqual(sourceFromWire(sourceToWire(source), 2), source);
  const stats = {
    id: 2,
    refId: 0xc0000207,
    address: "192.0.2.7",
    samples: 8,
    runs: 4,
    spanSeconds: 512,
    stdDev: 0.5,
    residualFreqPpm: -0.25,
    skewPpm: 0.125,
    estimatedOffset: 0.0625,
    estimatedOffsetError: 0.03125,
  };
  assert.deepEqual(sourceStatsFromWire(sourceStatsToWire(stats), 2), stats);
});

Deno.test("metrics: serverstats from chrony 4.3's reply have the newer counters at 0", () => {
  const keys = [
    "ntpHits",
    "ntsKeHits",
    "cmdHits",
    "ntpDrops",
    "ntsKeDrops",
    "cmdDrops",
    "logDrops",
    "ntpAuthHits",
    "ntpInterleavedHits",
    "ntpTimestamps",
    "ntpSpanSeconds",
    "ntpDaemonRxTimestamps",
    "ntpDaemonTxTimestamps",
    "ntpKernelRxTimestamps",
    "ntpKernelTxTimestamps",
    "ntpHwRxTimestamps",
    "ntpHwTxTimestamps",
  ] as const;
  const stats = Object.fromEntries(keys.map((k, i) => [k, i + 1])) as unknown as ServerStatsReport;
  assert.deepEqual(serverStatsFromWire(serverStats4ToWire(stats)), stats);
  const old = serverStatsFromWire(serverStats3ToWire(stats));
  assert.deepEqual(old, { ...stats, ...Object.fromEntries(keys.slice(11).map((k) => [k, 0])) });
});
