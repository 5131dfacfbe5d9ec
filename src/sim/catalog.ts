/**
 * The scenario catalogue: chrony's published simulation tests (test/simulation, with their
 * pass thresholds from test.common and each script) and tempus's own product claims as
 * scenarios. Tests and the accuracy table both run from here, so the figures in
 * docs/accuracy.md are the figures the tests assert.
 *
 * @module
 */
import {
  DEFAULT_WATCH,
  runScenario,
  type ScenarioAction,
  type ScenarioContext,
  type ScenarioResult,
  type ScenarioSpec,
  type SimEngineFactory,
} from "./scenario.ts";
import { settleTime, windowStats } from "./metrics.ts";
import { type NetworkSpec, runNetworkScenario } from "./network_scenario.ts";
import type { PathSpec } from "./network.ts";
import type { SimNodeEngineFactory } from "./sim_node.ts";
import type { SourceParams } from "../config/model.ts";

/** A pass criterion: returns what failed (empty: pass). */
export type Criterion = (r: ScenarioResult) => string[];

/** The outcome of one criterion on one run. */
export interface CriterionResult {
  /** "check_sync", "must not sync" or the criterion's name. */
  name: string;
  /** What failed (empty: pass). */
  failures: string[];
}

/** One catalogued scenario. */
export interface CatalogEntry {
  /** Identifier, e.g. "001-defaults" or "003-largefreqoffset +5e-2". */
  id: string;
  /** What it models. */
  title: string;
  /** The scenario (for a network scenario: its name and duration; `network` runs). */
  spec: ScenarioSpec;
  /** A layered network of engines instead of one client (chrony's 002). */
  network?: NetworkSpec;
  /** True: check_sync must pass (default). False: it must fail (the clock must not sync). */
  expectSync?: boolean;
  /** False: chrony's script does not call check_sync for this scenario (default true). */
  checkSync?: boolean;
  /** Named criteria beyond check_sync (chrony's other checks); each returns failures. */
  criteria?: Record<string, Criterion>;
  /** Criteria chrony's script expects to fail here ("These checks are expected to fail"). */
  mustFail?: string[];
  /** A measured figure to print beside the table (product claims). */
  figure?: (r: ScenarioResult) => string;
}

/** The engine factories a catalogue run needs. */
export interface Engines {
  /** A client engine over the simulator's ports. */
  client: SimEngineFactory;
  /** An engine for a host that also serves time. */
  node: SimNodeEngineFactory;
}

/** Runs one catalogued scenario. */
export function runEntry(entry: CatalogEntry, engines: Engines): ScenarioResult {
  return entry.network
    ? runNetworkScenario(entry.network, engines.node)
    : runScenario(entry.spec, engines.client);
}

/** The verdict on one run: check_sync (or its expected failure) plus each criterion. */
export function evaluate(entry: CatalogEntry, r: ScenarioResult): CriterionResult[] {
  const out: CriterionResult[] = entry.checkSync === false ? [] : entry.expectSync === false
    ? [{
      name: "must not sync",
      failures: r.pass ? ["check_sync passed but this scenario must not synchronise"] : [],
    }]
    : [{ name: "check_sync", failures: r.failures }];
  for (const [name, check] of Object.entries(entry.criteria ?? {})) {
    const failures = check(r);
    if (entry.mustFail?.includes(name)) {
      out.push({
        name: `${name} must fail`,
        failures: failures.length > 0 ? [] : [`"${name}" passed but must fail here`],
      });
    } else {
      out.push({ name, failures });
    }
  }
  return out;
}

/** chrony's check_source_selection: "Selected source" logged, no "no majority"/"no selectable sources". */
export function sourceSelectionOk(r: ScenarioResult): string[] {
  const out: string[] = [];
  if ((r.logCounts["Selected source"] ?? 0) < 1) out.push('no "Selected source" logged');
  if ((r.logCounts["no majority"] ?? 0) > 0) out.push('"no majority" logged');
  if ((r.logCounts["no selectable sources"] ?? 0) > 0) out.push('"no selectable sources" logged');
  return out;
}

/** chrony's check_packet_interval for a client: sane mean and minimum outgoing interval. */
export function packetIntervalOk(r: ScenarioResult, servers = 1): string[] {
  const out: string[] = [];
  const minLimit = servers > 1 ? 0.18 : 1.8;
  if (!(r.transport.meanOutInterval >= 0.1)) {
    out.push(`mean outgoing interval ${r.transport.meanOutInterval}`);
  }
  if (!(r.transport.minOutInterval >= minLimit)) {
    out.push(`min outgoing interval ${r.transport.minOutInterval.toFixed(3)} s < ${minLimit}`);
  }
  return out;
}

/** chrony's check_log_messages: the count of lines containing `text` lies in [min, max]. */
export function logCountIn(r: ScenarioResult, text: string, min: number, max: number): string[] {
  const n = r.logCounts[text] ?? r.log.filter((l) => l.message.includes(text)).length;
  return n >= min && n <= max ? [] : [`"${text}" logged ${n} times, expected ${min}-${max}`];
}

/** Lines containing `text` logged at simulated seconds in [from, to). */
export function loggedBetween(r: ScenarioResult, text: string, from: number, to: number): number {
  return r.log.filter((l) => l.message.includes(text) && l.t >= from && l.t < to).length;
}

/** The clock was never stepped by the engine. */
export function neverStepped(r: ScenarioResult): string[] {
  return r.clockSteps === 0 ? [] : [`clock stepped ${r.clockSteps} times`];
}

const fmtS = (s: number) =>
  Math.abs(s) >= 1
    ? `${s.toFixed(2)} s`
    : Math.abs(s) >= 1e-3
    ? `${(s * 1e3).toFixed(2)} ms`
    : `${(s * 1e6).toFixed(1)} µs`;

const selection = { "source selection": sourceSelectionOk };

/** 001-003-004-006-007-009-011-014: chrony's basic scenarios. */
export function basicScenarios(): CatalogEntry[] {
  const list: CatalogEntry[] = [];
  list.push({
    id: "001-defaults",
    title: "0.1 s and 100 ppm off, 100 µs + 100 µs·Exp delay",
    spec: { name: "001-defaults", duration: 10_000 },
    criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "002-largenetwork",
    title: "3 strata of 4 servers (strata 2-3 run tempus), 5 clients start at 2000 s",
    spec: { name: "002", duration: 10_000 },
    network: {
      name: "002",
      duration: 10_000,
      strata: 3,
      serversPerStratum: 4,
      clients: 5,
      clientStart: 2000,
      limits: { timeRms: 5e-4, minSyncTime: 2100, maxSyncTime: 2300 },
    },
    criteria: { "packet interval": (r) => packetIntervalOk(r, 4) },
  });
  for (const freq of [-5e-2, -5e-3, 5e-3, 5e-2]) {
    list.push({
      id: `003-largefreqoffset ${freq > 0 ? "+" : ""}${freq}`,
      title: `frequency error ${freq * 1e6} ppm, offset -freq·130 s`,
      spec: {
        name: `003 ${freq}`,
        duration: 10_000,
        clock: { freq, offset: -freq * 130 },
        limits: { maxSyncTime: 1000 },
      },
      criteria: selection,
    });
  }
  for (const offset of [-100, 100]) {
    list.push({
      id: `004-largetimeoffset ${offset > 0 ? "+" : ""}${offset}`,
      title: `${offset} s offset slewed (no makestep)`,
      spec: {
        name: `004 ${offset}`,
        duration: 10_000,
        clock: { offset },
        limits: { minSyncTime: 1300, maxSyncTime: 1400 },
      },
      criteria: { ...selection, "never stepped": neverStepped },
    });
  }
  for (const step of [-100, 100]) {
    list.push({
      id: `005-externalstep ${step > 0 ? "+" : ""}${step}`,
      title: `external ${step} s step at 150 s, no makestep`,
      spec: {
        name: `005 ${step}`,
        duration: 10_000,
        clock: { steps: [{ at: 150, delta: step }] },
        limits: { minSyncTime: 1500, maxSyncTime: 1550 },
      },
    });
  }
  for (const step of [-1e8, -1e5, 1e5, 1e8]) {
    list.push({
      id: `005-externalstep makestep ${step > 0 ? "+" : ""}${step}`,
      title: `external ${step} s step at 5000 s, makestep 1 -1`,
      spec: {
        name: `005 ms ${step}`,
        duration: 10_000,
        clock: { steps: [{ at: 5000, delta: step }] },
        config: { makeStep: { threshold: 1, limit: -1 } },
        limits: { minSyncTime: 5120, maxSyncTime: 6200 },
      },
    });
  }
  list.push({
    id: "006-largejitter",
    title: "1 s offset, 0.1 s exponential jitter",
    spec: {
      name: "006",
      duration: 10_000,
      clock: { offset: 1 },
      servers: [{ path: { up: { base: 1e-4, jitter: 0.1 }, down: { base: 1e-4, jitter: 0.1 } } }],
      limits: { timeMax: 0.5, freqMax: 0.2, timeRms: 0.1, freqRms: 5e-3 },
    },
    criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "007-largewander",
    title: "wander 1e-7 per √s",
    spec: {
      name: "007",
      duration: 10_000,
      clock: { wander: 1e-7 },
      limits: { timeMax: 5e-3, freqMax: 5e-3, timeRms: 1e-3, freqRms: 1e-4 },
    },
    criteria: selection,
  });
  list.push({
    id: "008-ntpera",
    title: "start 500 s before the NTP era 1 rollover (2036-02-07T06:28:16Z)",
    spec: {
      name: "008",
      duration: 10_000,
      startEpoch: (2_085_978_496n - 500n) * 1_000_000_000n,
    },
    criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r) },
  });
  for (const falsetickers of [1, 2, 3, 4]) {
    const servers = [1, 2, 3, 4, 5].map((i) => ({
      offset: i <= falsetickers ? i : 0,
      path: { up: { base: 1e-3, jitter: 1e-4 }, down: { base: 1e-3, jitter: 1e-4 } },
    }));
    const ok = falsetickers < 3;
    const message = falsetickers === 3
      ? "Can't synchronise: no majority (only 2 of 5 sources agree)"
      : "Can't synchronise: no majority (no agreement among 5 sources)";
    list.push({
      id: `009-sourceselection ${falsetickers} of 5 false`,
      title: `5 servers, falseticker i off by i s, ${falsetickers} falsetickers`,
      spec: {
        name: `009 ${falsetickers}`,
        duration: 10_000,
        servers,
        watch: [...DEFAULT_WATCH, message],
      },
      expectSync: ok,
      criteria: ok ? { ...selection, "packet interval": (r) => packetIntervalOk(r, 5) } : {
        "no majority message": (r) => logCountIn(r, message, 1, 1),
        "packet interval": (r) => packetIntervalOk(r, 5),
      },
    });
  }
  list.push({
    id: "009-sourceselection asymmetric",
    title: "3 servers, two with +0.1 s one-way delay to them",
    spec: {
      name: "009 asym",
      duration: 10_000,
      servers: [1, 2, 3].map((i) => ({
        path: {
          up: { base: 1e-3 + (i > 1 ? 0.1 : 0), jitter: 1e-4 },
          down: { base: 1e-3, jitter: 1e-4 },
        },
      })),
    },
    criteria: selection,
  });
  list.push({
    id: "011-asymjitter",
    title: "jitter 5e-4 with asymmetry 0.47, 100 000 s",
    spec: {
      name: "011",
      duration: 100_000,
      servers: [{
        path: {
          up: { base: 1e-4, jitter: 5e-4 },
          down: { base: 1e-4, jitter: 5e-4 },
          jitterAsymmetry: 0.47,
        },
      }],
      limits: { maxSyncTime: 2000 },
    },
    criteria: selection,
  });
  list.push({
    id: "014-intermittent",
    title: "link up 1200 s of every 10 000 s, 100 000 s",
    spec: {
      name: "014",
      duration: 100_000,
      servers: [{ path: { linkWindows: { period: 10_000, upFor: 1200 } } }],
      limits: { timeMax: 0.1, freqMax: 1e-2, timeRms: 2e-3, freqRms: 2e-5 },
    },
    criteria: {
      "log messages": (r) => [
        ...logCountIn(r, "no selectable sources", 9, 10),
        ...logCountIn(r, "Selected source", 9, 10),
      ],
    },
  });
  list.push({
    id: "014-intermittent 1 of 20",
    title: "19 of 20 client requests dropped, 100 000 s",
    spec: {
      name: "014b",
      duration: 100_000,
      servers: [{ path: { drop: (_t, dir, n) => dir === "up" && n % 20 !== 0 } }],
      limits: { timeMax: 1e-2, freqMax: 1e-4, timeRms: 5e-3, freqRms: 2e-5, maxSyncTime: 22_000 },
    },
    criteria: {
      "log messages": (r) => [
        ...logCountIn(r, "no selectable sources", 5, 15),
        ...logCountIn(r, "Selected source", 5, 15),
      ],
    },
  });
  return list;
}

/** A path with the same base delay (and 100 µs jitter) each way. */
function two(delay: number): PathSpec {
  return { up: { base: delay, jitter: 1e-4 }, down: { base: delay, jitter: 1e-4 } };
}

/** 101-202: chrony's option scenarios. */
export function optionScenarios(): CatalogEntry[] {
  const list: CatalogEntry[] = [];
  // chrony's 101: fixed polling, 1 µs jitter, no wander, makestep 1e-2 1, limits 1e-5/5e-6.
  const pollSpec = (poll: number, duration: number, minSyncTime: number, maxSyncTime: number) => ({
    name: `101 ${poll}`,
    duration,
    clock: { wander: 0 },
    servers: [{
      path: { up: { base: 1e-4, jitter: 1e-6 }, down: { base: 1e-4, jitter: 1e-6 } },
    }],
    sourceParams: { minPoll: poll, maxPoll: poll },
    config: { makeStep: { threshold: 1e-2, limit: 1 } },
    limits: {
      timeMax: 1e-5,
      freqMax: 1e-5,
      timeRms: 5e-6,
      freqRms: 5e-6,
      minSyncTime,
      maxSyncTime,
    },
  });
  for (const poll of [2, 4, 6, 8, 10, 12, 14]) {
    const p2 = 2 ** poll;
    list.push({
      id: `101-poll ${poll}`,
      title: `minpoll = maxpoll = ${poll}, jitter 1 µs, no wander`,
      spec: pollSpec(poll, p2 * 10, p2 * 2, Math.floor(p2 * 21 / 10) + 1),
      criteria: {
        ...selection,
        "packet interval": (r) => [
          ...packetIntervalOk(r),
          ...(r.transport.meanOutInterval >= 0.99 * p2 ? [] : [
            `mean outgoing interval ${r.transport.meanOutInterval.toFixed(2)} < 0.99·2^${poll}`,
          ]),
        ],
      },
    });
  }
  for (const poll of [-7, -5, -3, -1]) {
    const p2 = 2 ** poll;
    list.push({
      id: `101-poll ${poll}`,
      title: `minpoll = maxpoll = ${poll} over a 100 µs LAN, jitter 1 µs, no wander`,
      spec: { ...pollSpec(poll, 20, 0, 2.1 * p2 + 1), ticksPerSecond: 128 },
      criteria: {
        ...selection,
        "sub-second polling": (r) =>
          r.transport.meanOutInterval <= 1.1 * p2
            ? []
            : [`mean outgoing interval ${r.transport.meanOutInterval.toFixed(4)} > 1.1·2^${poll}`],
      },
    });
  }
  list.push({
    id: "101-poll -3 over 20 ms",
    title: "minpoll = maxpoll = -3 with 20 ms delay: held at 1 s",
    spec: {
      name: "101 -3 wan",
      duration: 200,
      servers: [{ path: { up: { base: 2e-2, jitter: 1e-4 }, down: { base: 2e-2, jitter: 1e-4 } } }],
      sourceParams: { minPoll: -3, maxPoll: -3 },
      limits: {
        minSyncTime: 0,
        maxSyncTime: 200,
        timeMax: Infinity,
        freqMax: Infinity,
        timeRms: Infinity,
        freqRms: Infinity,
      },
    },
    criteria: {
      "poll held at 1 s": (r) =>
        r.transport.minOutInterval >= 0.99
          ? []
          : [`min outgoing interval ${r.transport.minOutInterval.toFixed(3)} s < 1 s`],
    },
  });
  list.push({
    id: "102-iburst",
    title: "iburst with a correct driftfile, makestep 1e-2 1",
    spec: {
      name: "102",
      duration: 10_000,
      sourceParams: { iburst: true },
      config: { makeStep: { threshold: 1e-2, limit: 1 } },
      initialDrift: { freqPpm: -1e-4 / (1 + 1e-4) * 1e6, skewPpm: 1 },
      limits: { minSyncTime: 4, maxSyncTime: 6 },
    },
    criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r) },
  });
  for (const freq of [-5e-2, -5e-4, -5e-6, 5e-6, 5e-4, 5e-2]) {
    list.push({
      id: `104-driftfile ${freq}`,
      title: `no server, driftfile holds the exact frequency of a ${freq} clock`,
      spec: {
        name: `104 ${freq}`,
        duration: 10,
        clock: { offset: 0, freq, wander: 0 },
        servers: [],
        // chrony's driftfile value 1e6 - 1e6/(1 + f) ("fast"), as a tempus correction.
        initialDrift: { freqPpm: -(1e6 - 1e6 / (1 + freq)), skewPpm: 1 },
        limits: { freqMax: 1e-9, minSyncTime: 1, maxSyncTime: 1 },
      },
    });
  }
  list.push({
    id: "125-packetloss",
    title: "a third of the packets lost in each direction",
    spec: {
      name: "125",
      duration: 20_000,
      servers: [{ path: { loss: 1 / 3 } }],
      limits: { maxSyncTime: 10_000 },
    },
    criteria: selection,
  });
  for (const kod of [0, 2]) {
    list.push({
      id: `135-ratelimit${kod ? " kod 2" : ""}`,
      title: `server ratelimit interval 6 burst 2 leak 4${kod ? " kod 2" : ""}, client poll 3`,
      spec: {
        name: `135 ${kod}`,
        duration: 10_000,
        servers: [{ rateLimit: { interval: 6, burst: 2, leak: 4, kod } }],
        sourceParams: { minPoll: 3, maxPoll: 3 },
        watch: [...DEFAULT_WATCH, "Received KoD RATE"],
      },
      checkSync: false,
      criteria: kod ? { "KoD messages": (r) => logCountIn(r, "Received KoD RATE", 100, 140) } : {
        "requests and responses": (r) => [
          ...(r.transport.sent >= 1200 && r.transport.sent <= 1300
            ? []
            : [`${r.transport.sent} requests, expected 1200-1300`]),
          ...(r.transport.received >= 180 && r.transport.received <= 220
            ? []
            : [`${r.transport.received} responses, expected 180-220`]),
        ],
      },
    });
  }
  for (const mode of ["system", "step", "slew"] as const) {
    const leap = 2 * 86_400;
    list.push({
      id: `113-leapsecond ${mode}`,
      title: `leap second inserted at the end of 2008-12-31, leapsecmode ${mode}`,
      spec: {
        name: `113 ${mode}`,
        duration: 4 * 86_400,
        // 2008-12-30T00:00:00Z: the leap second ends 2008-12-31 (two days in).
        startEpoch: 1_230_595_200n * 1_000_000_000n,
        leapAt: leap,
        tickPhase: 0.5,
        config: { leapSecMode: mode },
        limits: { maxSyncTime: mode === "slew" ? leap + 12 : leap },
      },
      criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r) },
    });
  }
  for (const offset of [-1, -0.1, 0.1, 1, -100, 100, -1e8, 1e8]) {
    const big = Math.abs(offset) >= 100;
    list.push({
      id: `109-makestep ${offset > 0 ? "+" : ""}${offset}`,
      title: `makestep 2 1 with a ${offset} s offset`,
      spec: {
        name: `109 ${offset}`,
        duration: 200,
        clock: { offset },
        servers: [{
          path: { up: { base: 1e-4, jitter: 1e-5 }, down: { base: 1e-4, jitter: 1e-5 } },
        }],
        config: { makeStep: { threshold: 2, limit: 1 } },
        limits: big
          ? { minSyncTime: 120, maxSyncTime: 140 }
          : { minSyncTime: 130, maxSyncTime: 150 },
      },
      criteria: selection,
    });
  }
  for (const delay of [1e-4, 5]) {
    list.push({
      id: `114-presend delay ${delay}`,
      title: `presend 6 maxdelay 16, maxdistance 10, one-way base delay ${delay} s`,
      spec: {
        name: `114 ${delay}`,
        servers: [{ path: two(delay) }],
        sourceParams: { presend: 6, maxDelay: 16 },
        config: { maxDistance: 10 },
        // chrony's current script (limit 9900, min_sync_time 136); an older one had 140.
        duration: 9_900,
        limits: { minSyncTime: 136, maxSyncTime: 260 },
      },
      criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r) },
    });
  }
  for (const servers of [1, 3]) {
    list.push({
      id: `116-minsources 3 with ${servers}`,
      title: `minsources 3 with ${servers} server${servers > 1 ? "s" : ""}`,
      spec: {
        name: `116 ${servers}`,
        duration: 10_000,
        servers: Array.from({ length: servers }, () => ({})),
        config: { minSources: 3 },
      },
      expectSync: servers === 3,
      criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r, servers) },
      mustFail: servers === 3 ? [] : ["source selection"],
    });
  }
  const selectOptions: {
    id: string;
    delay: number;
    falsetickers: number;
    options: Partial<SourceParams>[];
    sync: boolean;
    selection: boolean;
  }[] = [
    {
      id: "trust",
      delay: 0.6,
      falsetickers: 2,
      options: [{}, {}, { trust: true }],
      sync: true,
      selection: true,
    },
    {
      id: "prefer",
      delay: 0.6,
      falsetickers: 2,
      options: [{}, {}, { prefer: true }],
      sync: false,
      selection: true,
    },
    {
      id: "prefer 1.1 s",
      delay: 1.1,
      falsetickers: 2,
      options: [{}, {}, { prefer: true }],
      sync: true,
      selection: true,
    },
    {
      id: "require",
      delay: 1e-4,
      falsetickers: 1,
      options: [{}, {}, { require: true }],
      sync: true,
      selection: true,
    },
    {
      id: "require falseticker",
      delay: 1e-4,
      falsetickers: 1,
      options: [{ require: true }, {}, {}],
      sync: false,
      selection: false,
    },
  ];
  for (const o of selectOptions) {
    list.push({
      id: `120-selectoptions ${o.id}`,
      title: `3 servers, ${o.falsetickers} false, delay ${o.delay} s, ` +
        `${
          o.options.map((p, i) => Object.keys(p).map((k) => `${k} on ${i + 1}`).join("")).join("")
        }`,
      spec: {
        name: `120 ${o.id}`,
        duration: 10_000,
        servers: o.options.map((p, i) => ({
          offset: i < o.falsetickers ? i + 1 : 0,
          path: two(o.delay),
          sourceParams: p,
        })),
      },
      expectSync: o.sync,
      criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r, 3) },
      mustFail: o.selection ? [] : ["source selection"],
    });
  }
  for (const maxUnreach of [100_000, 10]) {
    const name1 = "Selected source 192.168.123.1";
    const name2 = "Selected source 192.168.123.2";
    list.push({
      id: `150-maxunreach ${maxUnreach}`,
      title:
        `server 1 unreachable from 2000 s, server 2 at 0.5 s one-way; maxunreach ${maxUnreach}`,
      spec: {
        name: `150 ${maxUnreach}`,
        duration: 5000,
        servers: [
          { path: { drop: (t, dir) => dir === "up" && t >= 2000 } },
          { path: two(1e-4 + 0.5) },
        ],
        sourceParams: { minPoll: 6, maxPoll: 6, minSamples: 64, maxUnreach },
        watch: [...DEFAULT_WATCH, name1, name2],
      },
      criteria: {
        ...selection,
        "packet interval": (r) => packetIntervalOk(r, 2),
        "log messages": (r) => [
          ...logCountIn(r, name1, 1, 1),
          ...logCountIn(r, name2, maxUnreach === 10 ? 1 : 0, maxUnreach === 10 ? 1 : 0),
          ...(maxUnreach === 10 && loggedBetween(r, name2, 3120, 3180) !== 1
            ? [`"${name2}" not logged at 00:52 (3120-3180 s)`]
            : []),
        ],
      },
    });
  }
  list.push({
    id: "117-fallbackdrift",
    title: "100 ppm sine(1000 s) drift, link lost after 4250 s, fallbackdrift 6 10",
    spec: {
      name: "117",
      duration: 100_000,
      clock: {
        offset: 10,
        freq: 0,
        wander: 0,
        freqFn: (t) => 1e-4 * Math.sin(2 * Math.PI * t / 1000),
      },
      servers: [{
        path: {
          up: { base: 0, jitter: 1e-6 },
          down: { base: 0, jitter: 1e-6 },
          drop: (t) => t >= 4250,
        },
      }],
      sourceParams: { minPoll: 4, maxPoll: 4 },
      config: { fallbackDrift: { min: 6, max: 10 } },
      limits: { timeMax: 1, timeRms: 1, freqMax: 2e-4, freqRms: 1e-4 },
    },
    // chrony's current 117 script checks only the sync figures; an older one also ran
    // check_source_selection (no "no selectable sources" at all). But the only source goes
    // silent at 4250 s and chrony logs that line when its reach register empties (014, the
    // same loss, expects it 9-10 times). So: selected, never "no majority", and "no selectable
    // sources" exactly once, after the link is lost.
    criteria: {
      "source selection": (r) => [
        ...sourceSelectionOk(r).filter((f) => !f.includes("no selectable sources")),
        ...(loggedBetween(r, "no selectable sources", 0, 4250) > 0
          ? ['"no selectable sources" logged before the link was lost']
          : []),
        ...logCountIn(r, "no selectable sources", 1, 1),
      ],
    },
  });
  const maxdelayPath = { up: { base: 1e-5, jitter: 1e-5 }, down: { base: 1e-5, jitter: 1e-5 } };
  list.push({
    id: "118-maxdelay sync",
    title: "10 µs + 10 µs jitter, maxdelay 3e-5 maxdelayratio 2 maxdelaydevratio 2",
    spec: {
      name: "118a",
      duration: 10_000,
      clock: { freq: 0, wander: 0, freqFn: (t) => 1e-10 * t },
      servers: [{ path: maxdelayPath }],
      sourceParams: { maxPoll: 6, maxDelay: 3e-5, maxDelayRatio: 2, maxDelayDevRatio: 2 },
      limits: { maxSyncTime: 2000, timeRms: 2e-4 },
    },
    criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "118-maxdelay 2e-5 no sync",
    title: "maxdelay 2e-5 rejects nearly every sample: must not sync",
    spec: {
      name: "118b",
      duration: 10_000,
      clock: { freq: 0, wander: 0, freqFn: (t) => 1e-10 * t },
      servers: [{ path: maxdelayPath }],
      sourceParams: { maxPoll: 6, maxDelay: 2e-5 },
      limits: { maxSyncTime: 2000, timeRms: 2e-4 },
    },
    expectSync: false,
    criteria: { "packet interval": (r) => packetIntervalOk(r) },
  });
  list.push({
    id: "127-filter",
    title: "minpoll = maxpoll = 4 with a 15-sample median filter",
    spec: {
      name: "127",
      duration: 10_000,
      sourceParams: { minPoll: 4, maxPoll: 4, filter: 15 },
      limits: { minSyncTime: 710, maxSyncTime: 720 },
    },
    criteria: {
      ...selection,
      "packet interval": (r) => [
        ...packetIntervalOk(r),
        ...(r.transport.minOutInterval <= 16.1
          ? []
          : [`min out interval ${r.transport.minOutInterval.toFixed(2)} > 16.1`]),
        ...(r.transport.meanOutInterval >= 15.9
          ? []
          : [`mean out interval ${r.transport.meanOutInterval.toFixed(2)} < 15.9`]),
      ],
    },
  });
  list.push({
    id: "126-burst",
    title: "3 of 4 client requests lost, burst polltarget 1",
    spec: {
      name: "126",
      duration: 10_000,
      servers: [{ path: { drop: (_t, dir, n) => dir === "up" && n % 4 !== 0 } }],
      sourceParams: { burst: true, pollTarget: 1 },
      limits: { minSyncTime: 700, maxSyncTime: 730 },
    },
    criteria: {
      ...selection,
      "packet interval": (r) => [
        ...(r.transport.meanOutInterval >= 150
          ? []
          : [`mean out interval ${r.transport.meanOutInterval.toFixed(1)} < 150`]),
        ...(r.transport.minOutInterval <= 2.2
          ? []
          : [`min out interval ${r.transport.minOutInterval.toFixed(2)} > 2.2`]),
      ],
    },
  });
  list.push({
    id: "131-maxchange",
    title: "maxchange 0.1 1 3 and a +0.5 s external step at 3000 s: 3 ignored, then exit",
    spec: {
      name: "131",
      duration: 10_000,
      clock: { offset: 0.05, steps: [{ at: 3000, delta: 0.5 }] },
      config: { maxChange: { offset: 0.1, start: 1, ignore: 3 } },
      watch: [...DEFAULT_WATCH, "seconds (ignored)", "seconds (exiting)"],
    },
    checkSync: false,
    criteria: {
      "log messages": (r) => [
        ...logCountIn(r, "seconds (ignored)", 3, 3),
        ...logCountIn(r, "seconds (exiting)", 1, 1),
      ],
      "exit": (r) =>
        r.fatal && r.fatal.t > 3000 ? [] : [`no exit after the step (${JSON.stringify(r.fatal)})`],
    },
  });
  list.push({
    id: "202-prefer",
    title: "3 good servers, prefer on the third",
    spec: {
      name: "202",
      duration: 10_000,
      servers: [{}, {}, { sourceParams: { prefer: true } }],
    },
    criteria: { ...selection, "packet interval": (r) => packetIntervalOk(r, 3) },
  });
  for (const freq of [-5e-2, -5e-4, 5e-4, 5e-2]) {
    for (const drift of [-1e4, -1e2, 1e2, 1e4]) {
      list.push({
        id: `201-freqaccumulation ${freq} drift ${drift}`,
        title: `100 s off, freq ${freq}, wrong driftfile ${drift} ppm (skew 1e5), makestep 1 1`,
        spec: {
          name: `201 ${freq} ${drift}`,
          duration: 180,
          clock: { offset: 100, freq, wander: 0 },
          servers: [{
            path: { up: { base: 1e-6, jitter: 1e-6 }, down: { base: 1e-6, jitter: 1e-6 } },
          }],
          sourceParams: { minPoll: 6, maxPoll: 6 },
          config: { makeStep: { threshold: 1, limit: 1 } },
          // chrony's driftfile holds "ppm fast"; tempus's correction has the opposite sign.
          initialDrift: { freqPpm: -drift, skewPpm: 1e5 },
          limits: {
            timeMax: 1e-5,
            freqMax: 1e-7,
            timeRms: 1e-5,
            freqRms: 1e-7,
            minSyncTime: 120,
            maxSyncTime: 140,
          },
        },
      });
    }
  }
  return list;
}

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

/** Scenarios for tempus's own claims and for realistic oscillators and networks. */
export function productScenarios(): CatalogEntry[] {
  const list: CatalogEntry[] = [];
  const p1Figure = (r: ScenarioResult) =>
    `max offset after sync ${fmtS(r.metrics.maxOffset)}, RMS ${fmtS(r.metrics.rmsOffset)}, ` +
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
          up: { base: 1e-3, jitter: 1e-4 },
          down: { base: 1e-3, jitter: 1e-4 },
          congestion: [{ from: 7200, to: 7200 + 14_400, extraBase: 0.01, extraJitter: 0.04 }],
        },
      }],
      limits: { timeMax: 5e-3, timeRms: 1e-3 },
    },
    figure: (r) => {
      const w = windowStats(r.offsets, 7200, 21_600);
      return `during congestion: max ${fmtS(w.max)}, RMS ${fmtS(w.rms)}`;
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
      `peak ${fmtS(windowStats(r.offsets, 20_000).max)}, 300-s RMS back under 100 µs ` +
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
      figure: (r) => `sync ${r.metrics.syncTime} s, then max ${fmtS(r.metrics.maxOffset)}`,
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
    figure: (r) => `max ${fmtS(r.metrics.maxOffset)}, RMS ${fmtS(r.metrics.rmsOffset)}`,
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
        path: {
          up: { base, jitter: 1e-3 },
          down: { base, jitter: 1e-3 },
          ...(i === 0 ? { drop: (t: number) => t >= 86_400 } : {}),
        },
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
    figure: (r) => `max ${fmtS(r.metrics.maxOffset)}, RMS ${fmtS(r.metrics.rmsOffset)}`,
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
    figure: (r) => `max ${fmtS(r.metrics.maxOffset)}, RMS ${fmtS(r.metrics.rmsOffset)}`,
  });
  return list;
}

/** Every catalogued scenario. */
export function allScenarios(): CatalogEntry[] {
  return [...basicScenarios(), ...optionScenarios(), ...productScenarios()];
}
