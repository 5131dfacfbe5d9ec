/**
 * The scenario runner: builds simulated servers, network paths and a client clock, wires a
 * client engine to them through the engine ports, runs N simulated seconds in virtual time
 * and computes chrony's check_sync figures plus packet and log counters.
 *
 * The engine is created through a factory so that the runner does not depend on a
 * particular engine build; `tempus_engine.ts` supplies tempus's own `Engine`.
 *
 * @module
 */
import { DEFAULT_SOURCE_PARAMS, defaultConfig } from "../config/defaults.ts";
import type { Config, SourceParams, SourceType } from "../config/model.ts";
import type { NtpTransport } from "../base/ports.ts";
import type { EngineDeps } from "../core/engine/types.ts";
import type { EngineCore } from "../core/engine/core.ts";
import type { Instant } from "../base/time.ts";
import { type CapturedLine, LogCapture } from "./log_capture.ts";
import {
  checkSync,
  CHRONY_DEFAULT_LIMITS,
  computeSyncMetrics,
  type SyncLimits,
  type SyncMetrics,
} from "./metrics.ts";
import { type PathSpec, SimPath } from "./network.ts";
import { SimRandom } from "./prng.ts";
import { type ClockSpec, SimClock } from "./sim_clock.ts";
import { type ServerSpec, SimServer } from "./sim_server.ts";
import { SimTimers } from "./sim_timers.ts";
import { SimTransport, type TransportStats } from "./sim_transport.ts";
import { VirtualTime } from "./virtual_time.ts";

/** The ports a client engine is built with (the engine's own). */
export type SimEngineDeps = EngineDeps;

/** What the runner needs of a client engine (tempus's `Engine` fits structurally). */
export interface SimClientEngine {
  /** The local clock (the runner reads the cooked time at packet arrival). */
  readonly clock: { cookedNow(): Instant };
  /** Starts polling, sending through `transport`. */
  start(transport: NtpTransport): void;
  /** Stops. */
  stop(): void;
  /** Adds a source; returns its id. */
  addSource: EngineCore["addSource"];
  /** Hands a reply to the engine. */
  receiveReply(requestId: number, packet: Uint8Array, rxCooked: Instant): void;
  /** Called when the engine must exit (maxchange); the runner stops it, as the daemon would. */
  onFatal?: ((message: string) => void) | null;
  /** chronyc online/offline (optional; used by scripted actions). */
  setConnectivity?(
    match: { address: string | null; mask: string | null },
    online: boolean,
  ): unknown;
}

/** Creates a client engine (tempus: `new Engine(config, deps, initialDrift)`). */
export type SimEngineFactory = (
  config: Config,
  deps: SimEngineDeps,
  initialDrift: { freqPpm: number; skewPpm: number } | null,
) => SimClientEngine;

/** One simulated server with its path and the client's source options for it. */
export interface SimServerConfig extends ServerSpec {
  /** Address (default 192.168.123.<n>). */
  address?: string;
  /** Network path to it (default: 100 µs + 100 µs·Exp each way). */
  path?: PathSpec;
  /** Source options on top of the scenario's. */
  sourceParams?: Partial<SourceParams>;
  /** server (default), pool or peer. */
  type?: SourceType;
}

/** Everything the runner sees while a scenario runs (for scripted actions). */
export interface ScenarioContext {
  /** The client engine. */
  engine: SimClientEngine;
  /** The client's simulated clock. */
  clock: SimClock;
  /** Virtual time. */
  vt: VirtualTime;
  /** The client transport. */
  transport: SimTransport;
  /** The servers, in order. */
  servers: SimServer[];
  /** Source ids returned by addSource, in server order. */
  sourceIds: number[];
  /** Simulated seconds since the start. */
  seconds(): number;
}

/** A scripted action at a simulated second. */
export interface ScenarioAction {
  /** Simulated second. */
  at: number;
  /** What to do. */
  run: (ctx: ScenarioContext) => void;
}

/** A scenario: chrony's test.common settings plus overrides. */
export interface ScenarioSpec {
  /** Name (for tables and messages). */
  name: string;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Simulated seconds to run (chrony's `limit`). */
  duration: number;
  /** Client oscillator; missing fields take test.common defaults (0.1 s, 1e-4, 1e-9). */
  clock?: ClockSpec;
  /** Servers (default one perfect stratum-1 server). */
  servers?: SimServerConfig[];
  /** Config overrides on top of `defaultConfig()`. */
  config?: Partial<Config>;
  /** Source options for every server, on top of DEFAULT_SOURCE_PARAMS. */
  sourceParams?: Partial<SourceParams>;
  /** Driftfile contents (tempus sign), or null for none. */
  initialDrift?: { freqPpm: number; skewPpm: number } | null;
  /** Pass thresholds on top of chrony's defaults. */
  limits?: Partial<SyncLimits>;
  /** Log substrings to count (default: the check_source_selection ones). */
  watch?: string[];
  /** Scripted actions. */
  actions?: ScenarioAction[];
  /** Start instant (default 2026-03-02T00:00:00Z). */
  startEpoch?: Instant;
  /** Print the engine's log lines as they happen. */
  echoLog?: boolean;
  /**
   * Oscillator updates and records per second (clknetsim's update rate; default 1). A power
   * of two up to 1024 so that ticks fall on whole nanoseconds; sub-second polling needs more.
   */
  ticksPerSecond?: number;
  /** Records are taken this fraction of a tick after each whole tick (default 0). */
  tickPhase?: number;
  /**
   * An inserted leap second at this simulated second: every server's UTC repeats a second
   * there (announced the day before) and offsets are measured against UTC.
   */
  leapAt?: number;
}

/** The outcome of a scenario. */
export interface ScenarioResult {
  /** Scenario name. */
  name: string;
  /** Limits applied. */
  limits: SyncLimits;
  /** check_sync figures. */
  metrics: SyncMetrics;
  /** What failed (empty: pass). */
  failures: string[];
  /** True when every check_sync limit holds. */
  pass: boolean;
  /** Offset of the client clock from true time per tick (1 tick/s by default), seconds. */
  offsets: Float64Array;
  /**
   * Offset of the engine's cooked time (its clock plus the correction still to be slewed in:
   * what it serves and what `chronyc tracking` reports under `-x`) from true time per tick,
   * seconds (single-client scenarios; absent in network scenarios' results).
   */
  cookedOffsets?: Float64Array;
  /** Frequency error of the client clock per tick, fraction. */
  freqErrors: Float64Array;
  /** Ticks per second of `offsets` and `freqErrors`. */
  ticksPerSecond: number;
  /** Client packet statistics. */
  transport: TransportStats;
  /** Requests received by all servers. */
  serverRequests: number;
  /** Watched log substring counts. */
  logCounts: Record<string, number>;
  /** Captured log lines. */
  log: CapturedLine[];
  /** Steps the engine made through the driver. */
  clockSteps: number;
  /** Events processed by the simulator. */
  events: number;
  /** When and why the engine asked to exit (maxchange), or null. */
  fatal?: { t: number; message: string } | null;
}

/** The log substrings chrony's check_source_selection looks at. */
export const DEFAULT_WATCH = [
  "Selected source",
  "no majority",
  "no selectable sources",
  "System clock was stepped",
];

/** Default start of simulated time: 2026-03-02T00:00:00Z (far from any leap second). */
export const DEFAULT_START_EPOCH: Instant = 1_772_409_600n * 1_000_000_000n;

/** The test.common client clock. */
export const DEFAULT_CLIENT_CLOCK: Readonly<ClockSpec> = Object.freeze({
  offset: 0.1,
  freq: 1e-4,
  wander: 1e-9,
});

/** Runs a scenario with the given engine factory. */
export function runScenario(spec: ScenarioSpec, factory: SimEngineFactory): ScenarioResult {
  const start = spec.startEpoch ?? DEFAULT_START_EPOCH;
  const duration = Math.ceil(spec.duration);
  const master = new SimRandom(spec.seed ?? 1);
  const engineRandom = master.fork();
  const clockRandom = master.fork();
  const vt = new VirtualTime(start);
  const tps = spec.ticksPerSecond ?? 1;
  const clock = new SimClock(
    vt,
    { ...DEFAULT_CLIENT_CLOCK, ...spec.clock },
    duration,
    clockRandom,
    tps,
  );
  const timers = new SimTimers(vt, clock);
  const leapAt = spec.leapAt;
  if (leapAt !== undefined) clock.referenceOffset = (t) => t >= leapAt ? -1 : 0;
  const log = new LogCapture(
    () => clock.secondsSinceStart(vt.now),
    spec.watch ?? DEFAULT_WATCH,
    5000,
    spec.echoLog ?? false,
  );
  const config: Config = { ...defaultConfig(), ...spec.config };
  const engine = factory(
    config,
    { driver: clock, timers, random: engineRandom, log },
    spec.initialDrift ?? null,
  );
  let fatal: { t: number; message: string } | null = null;
  let stopped = false;
  const transport = new SimTransport(vt, start, (requestId, bytes) => {
    if (!stopped) engine.receiveReply(requestId, bytes, engine.clock.cookedNow());
  });
  const serverConfigs = spec.servers ?? [{}];
  const servers: SimServer[] = [];
  serverConfigs.forEach((sc, i) => {
    const path = new SimPath(sc.path ?? {}, master.fork());
    const leapAt = sc.leapAt ?? spec.leapAt;
    const server = new SimServer(
      leapAt === undefined ? sc : { ...sc, leapAt },
      start,
      master.fork(),
    );
    servers.push(server);
    transport.addRoute(sc.address ?? `192.168.123.${i + 1}`, { server, path });
  });
  if ("onFatal" in engine) {
    engine.onFatal = (message) => {
      if (fatal) return;
      fatal = { t: clock.secondsSinceStart(vt.now), message };
      stopped = true;
      vt.scheduleIn(0n, () => engine.stop());
    };
  }
  const sourceIds: number[] = [];
  serverConfigs.forEach((sc, i) => {
    const params: SourceParams = {
      ...DEFAULT_SOURCE_PARAMS,
      ...spec.sourceParams,
      ...sc.sourceParams,
    };
    const address = sc.address ?? `192.168.123.${i + 1}`;
    sourceIds.push(
      engine.addSource(sc.type ?? "server", { address, port: params.port }, params, null),
    );
  });
  const ctx: ScenarioContext = {
    engine,
    clock,
    vt,
    transport,
    servers,
    sourceIds,
    seconds: () => clock.secondsSinceStart(vt.now),
  };
  for (const action of spec.actions ?? []) {
    vt.scheduleAt(start + BigInt(Math.round(action.at * 1e9)), () => action.run(ctx));
  }
  engine.start(transport);

  const tickNs = BigInt(Math.round(1e9 / tps));
  const phaseNs = BigInt(Math.round(Number(tickNs) * (spec.tickPhase ?? 0)));
  const cookedOffsets = new Float64Array(clock.offsets.length);
  cookedOffsets[0] = clock.offsets[0];
  vt.scheduleTicks(
    start + tickNs + phaseNs,
    tickNs,
    clock.offsets.length - 1,
    (k, at) => {
      clock.tick(k, at);
      if (k < cookedOffsets.length) {
        const remaining = Number(engine.clock.cookedNow() - clock.readRawTime()) / 1e9;
        cookedOffsets[k] = clock.offsets[k] + remaining;
      }
    },
  );
  vt.runUntil(start + BigInt(duration) * 1_000_000_000n);
  if (!stopped) engine.stop();

  const limits: SyncLimits = { ...CHRONY_DEFAULT_LIMITS, ...spec.limits };
  const metrics = computeSyncMetrics(clock.offsets, clock.freqErrors, limits, undefined, tps);
  const failures = checkSync(metrics, limits);
  return {
    name: spec.name,
    limits,
    metrics,
    failures,
    pass: failures.length === 0,
    offsets: clock.offsets,
    cookedOffsets,
    freqErrors: clock.freqErrors,
    ticksPerSecond: tps,
    transport: transport.stats(),
    serverRequests: servers.reduce((n, s) => n + s.requests, 0),
    logCounts: Object.fromEntries(log.counts),
    log: log.lines,
    clockSteps: clock.stepCount,
    events: vt.eventsRun,
    fatal,
  };
}
