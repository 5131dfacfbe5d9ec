/**
 * Network scenarios (chrony's 002-largenetwork): strata of servers where stratum 1 is a
 * perfect reference and every higher stratum is a host running a tempus engine that polls
 * all servers of the stratum below and serves the stratum above; clients poll the top
 * stratum. Every pair of hosts is joined by its own path. check_sync is applied to each
 * client and the result reports the worst client.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../config/defaults.ts";
import type { Config, SourceParams } from "../config/model.ts";
import {
  checkSync,
  CHRONY_DEFAULT_LIMITS,
  computeSyncMetrics,
  type SyncLimits,
} from "./metrics.ts";
import { type PathSpec, SimPath } from "./network.ts";
import { SimRandom } from "./prng.ts";
import {
  DEFAULT_CLIENT_CLOCK,
  DEFAULT_START_EPOCH,
  DEFAULT_WATCH,
  type ScenarioResult,
  type ScenarioSpec,
} from "./scenario.ts";
import type { ClockSpec } from "./sim_clock.ts";
import { SimNode, type SimNodeEngineFactory } from "./sim_node.ts";
import { SimServer } from "./sim_server.ts";
import type { SimResponder, TransportStats } from "./sim_transport.ts";
import { VirtualTime } from "./virtual_time.ts";

/** A layered network (test.common's servers, server_strata, clients). */
export interface NetworkSpec
  extends Pick<ScenarioSpec, "name" | "seed" | "duration" | "sourceParams" | "config" | "limits"> {
  /** Server strata, stratum 1 included (chrony's server_strata). */
  strata: number;
  /** Servers per stratum. */
  serversPerStratum: number;
  /** Clients. */
  clients: number;
  /** Second at which the clients' engines start (chrony's client_start; default 0). */
  clientStart?: number;
  /** Client oscillators (default test.common's: 0.1 s, 1e-4, wander 1e-9). */
  clientClock?: ClockSpec;
  /** Oscillators of servers at stratum >= 2 (default: 0 s, 1e-4, wander 1e-9). */
  serverClock?: ClockSpec;
  /** Every path between two hosts (default 100 µs + 100 µs·Exp each way). */
  path?: PathSpec;
}

/** A network run: the worst client's figures, each client's, and each host's final state. */
export interface NetworkResult extends ScenarioResult {
  /** Per-client results. */
  clientResults: ScenarioResult[];
  /** What each engine host announced at the end (servers of strata >= 2, then clients). */
  hosts: { name: string; stratum: number; synchronised: boolean; rootDelay: number }[];
}

/** Address of server `i` (0-based) of `stratum` (1-based), then the clients. */
function address(index: number): string {
  return `192.168.123.${index + 1}`;
}

/** Runs a layered network; the result holds the worst client's figures. */
export function runNetworkScenario(
  spec: NetworkSpec,
  factory: SimNodeEngineFactory,
): NetworkResult {
  const start = DEFAULT_START_EPOCH;
  const duration = Math.ceil(spec.duration);
  const master = new SimRandom(spec.seed ?? 1);
  const vt = new VirtualTime(start);
  const config: Config = { ...defaultConfig(), ...spec.config };
  const params: SourceParams = { ...DEFAULT_SOURCE_PARAMS, ...spec.sourceParams };
  const n = spec.serversPerStratum;
  const layers: { address: string; responder: SimResponder }[][] = [];
  const stratum1: SimServer[] = [];
  layers.push(Array.from({ length: n }, (_, i) => {
    const server = new SimServer({}, start);
    stratum1.push(server);
    return { address: address(i), responder: server };
  }));
  const nodes: SimNode[] = [];
  const clients: SimNode[] = [];
  const makeNode = (index: number, clock: ClockSpec, upstream: typeof layers[0]) => {
    const node = new SimNode(vt, {
      name: `node${index + 1}`,
      address: address(index),
      clock,
      config,
      seconds: duration,
      random: master.fork(),
      watch: DEFAULT_WATCH,
    }, factory);
    for (const up of upstream) {
      node.transport.addRoute(up.address, {
        server: up.responder,
        path: new SimPath(spec.path ?? {}, master.fork()),
      });
      node.engine.addSource("server", { address: up.address, port: params.port }, params, null);
    }
    nodes.push(node);
    return node;
  };
  for (let s = 2; s <= spec.strata; s++) {
    const below = layers[s - 2];
    layers.push(Array.from({ length: n }, (_, i) => {
      const node = makeNode(
        (s - 1) * n + i,
        { offset: 0, freq: 1e-4, wander: 1e-9, ...spec.serverClock },
        below,
      );
      return { address: node.address, responder: node };
    }));
  }
  const top = layers[layers.length - 1];
  for (let c = 0; c < spec.clients; c++) {
    clients.push(
      makeNode(spec.strata * n + c, { ...DEFAULT_CLIENT_CLOCK, ...spec.clientClock }, top),
    );
  }
  for (const node of nodes) {
    if (clients.includes(node) && (spec.clientStart ?? 0) > 0) {
      vt.scheduleAt(
        start + BigInt(Math.round(spec.clientStart! * 1e9)),
        () => node.engine.start(node.transport),
      );
    } else {
      node.engine.start(node.transport);
    }
  }

  vt.scheduleTicks(start + 1_000_000_000n, 1_000_000_000n, duration, (k, at) => {
    for (const node of nodes) node.clock.tick(k, at);
  });
  vt.runUntil(start + BigInt(duration) * 1_000_000_000n);
  const hosts = nodes.map((node) => {
    const { stratum, synchronised, rootDelay } = node.engine.referenceState();
    return { name: node.name, stratum, synchronised, rootDelay };
  });
  for (const node of nodes) node.engine.stop();

  const limits: SyncLimits = { ...CHRONY_DEFAULT_LIMITS, ...spec.limits };
  const clientResults: ScenarioResult[] = clients.map((node) => {
    const metrics = computeSyncMetrics(node.clock.offsets, node.clock.freqErrors, limits);
    const failures = checkSync(metrics, limits);
    return {
      name: `${spec.name} ${node.name}`,
      limits,
      metrics,
      failures,
      pass: failures.length === 0,
      offsets: node.clock.offsets,
      freqErrors: node.clock.freqErrors,
      ticksPerSecond: 1,
      transport: node.transport.stats(),
      serverRequests: 0,
      logCounts: Object.fromEntries(node.log.counts),
      log: node.log.lines,
      clockSteps: node.clock.stepCount,
      events: 0,
    };
  });
  const worst = (f: (r: ScenarioResult) => number) => Math.max(...clientResults.map(f));
  const anyNever = clientResults.some((r) => r.metrics.syncTime === null);
  const stats = clientResults.map((r) => r.transport);
  const transport: TransportStats = {
    sent: stats.reduce((a, s) => a + s.sent, 0),
    received: stats.reduce((a, s) => a + s.received, 0),
    refused: stats.reduce((a, s) => a + s.refused, 0),
    minOutInterval: Math.min(...stats.map((s) => s.minOutInterval)),
    meanOutInterval: Math.min(...stats.map((s) => s.meanOutInterval)),
  };
  const logCounts: Record<string, number> = {};
  for (const r of clientResults) {
    for (const [k, v] of Object.entries(r.logCounts)) logCounts[k] = (logCounts[k] ?? 0) + v;
  }
  const failures = clientResults.flatMap((r) => r.failures.map((f) => `${r.name}: ${f}`));
  return {
    name: spec.name,
    limits,
    metrics: {
      syncTime: anyNever ? null : worst((r) => r.metrics.syncTime ?? 0),
      maxOffset: worst((r) => r.metrics.maxOffset),
      maxFreq: worst((r) => r.metrics.maxFreq),
      rmsOffset: worst((r) => r.metrics.rmsOffset),
      rmsFreq: worst((r) => r.metrics.rmsFreq),
    },
    failures,
    pass: failures.length === 0,
    offsets: clientResults[0]?.offsets ?? new Float64Array(0),
    freqErrors: clientResults[0]?.freqErrors ?? new Float64Array(0),
    ticksPerSecond: 1,
    transport,
    serverRequests: stratum1.reduce((a, s) => a + s.requests, 0) +
      nodes.reduce((a, s) => a + s.requests, 0),
    logCounts,
    log: clientResults[0]?.log ?? [],
    clockSteps: clientResults.reduce((a, r) => a + r.clockSteps, 0),
    events: vt.eventsRun,
    clientResults,
    hosts,
  };
}
