/**
 * Real-time comparison of tempus beside chronyd on loopback, through impaired paths.
 *
 * One upstream `chronyd -x` (local stratum 1) serves on loopback. For each scenario, a real
 * `chronyd -x` client and a `tempus daemon -x` client each reach it through their own
 * impairing relay (tests/helpers/impair_relay.ts, same settings and seed), configured
 * identically: `server 127.0.0.1 port RELAYPORT iburst minpoll M maxpoll M'` and a command
 * port on loopback. All processes share the host clock, so the true error of each client's
 * virtual clock is its own "System time" in `chronyc tracking` (ideal 0), and the true
 * frequency error is its "Frequency" (ideal 0 ppm). Once a second, `chronyc tracking` is
 * sampled from both clients. The host clock is never touched: every chronyd runs with -x,
 * tempus with `daemon -x`; every process is killed in `finally`.
 *
 * Run: ./deno run -A --unstable-net tests/bench/realtime_compare.ts [--seconds N]
 *      [--scenario NAME] [--minpoll M] [--maxpoll M] [--log DIR] [--debug]
 *
 * `--seconds` overrides every scenario's duration (windows stay in the middle), `--scenario`
 * runs one (repeatable), `--log DIR` writes each client's output, the tracking samples and
 * chrony-style measurements/statistics/tracking logs there, `--debug` runs tempus with
 * `-d -d`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type DirectionImpairment,
  type ImpairRelay,
  type ImpairWindow,
  startImpairRelay,
} from "../helpers/impair_relay.ts";
import {
  type Background,
  type ChronydServer,
  findChronyd,
  freeUdpPort,
  haveBinary,
  runCommand,
  startBackground,
  startChronydServer,
} from "../helpers/peers.ts";
import { startTempusDaemon, type TempusUnderTest } from "../helpers/tempus_daemon.ts";

/** One impairment scenario of the comparison. */
export interface RealtimeScenario {
  /** Short name (used by --scenario). */
  name: string;
  /** What it models. */
  description: string;
  /** Default duration, seconds. */
  seconds: number;
  /** Client-to-server impairment. */
  up: DirectionImpairment;
  /** Server-to-client impairment. */
  down: DirectionImpairment;
  /** Windows as functions of the duration (so they stay in the middle when it changes). */
  windows?: (seconds: number) => ImpairWindow[];
  /** No relay: the clients talk to the server directly (the relay-free baseline). */
  direct?: boolean;
}

const LAN: DirectionImpairment = { baseDelayMs: 0.1, jitterMs: 0.1 };
/** Per-direction loss that loses 30% of request/reply exchanges. */
const LOSS_EACH_WAY = 1 - Math.sqrt(0.7);

/** The scenarios, in the order they run. */
export const SCENARIOS: readonly RealtimeScenario[] = [
  {
    name: "direct",
    description: "no relay: loopback straight to the server (baseline)",
    seconds: 60,
    up: {},
    down: {},
    direct: true,
  },
  {
    name: "clean",
    description: "LAN: 100 µs + 100 µs·Exp each way",
    seconds: 60,
    up: LAN,
    down: LAN,
  },
  {
    name: "jitter",
    description: "100 µs + 2 ms·Exp each way",
    seconds: 60,
    up: { baseDelayMs: 0.1, jitterMs: 2 },
    down: { baseDelayMs: 0.1, jitterMs: 2 },
  },
  {
    name: "asymjitter",
    description: "up 100 µs + 3 ms·Exp, down 100 µs + 0.2 ms·Exp",
    seconds: 60,
    up: { baseDelayMs: 0.1, jitterMs: 3 },
    down: { baseDelayMs: 0.1, jitterMs: 0.2 },
  },
  {
    name: "loss",
    description: "LAN, 30% of exchanges lost (16.3% each way)",
    seconds: 60,
    up: { ...LAN, loss: LOSS_EACH_WAY },
    down: { ...LAN, loss: LOSS_EACH_WAY },
  },
  {
    name: "congestion",
    description: "LAN, 30 s in the middle with 20-50 ms extra delay each way (independent)",
    seconds: 100,
    up: LAN,
    down: LAN,
    windows: (s) => [{
      kind: "congestion",
      startS: s / 2 - 15,
      endS: s / 2 + 15,
      extraDelayMs: [20, 50],
    }],
  },
  {
    name: "outage",
    description: "LAN, 30 s in the middle with no packets",
    seconds: 100,
    up: LAN,
    down: LAN,
    windows: (s) => [{ kind: "outage", startS: s / 2 - 15, endS: s / 2 + 15 }],
  },
];

/** One `chronyc tracking` sample. */
export interface TrackingSample {
  /** Seconds since the client was started. */
  t: number;
  /** True when a reference is selected (Reference ID not 0). */
  synced: boolean;
  /** Ref time as printed (changes at each clock update). */
  refTime: string;
  /** System time, seconds, + = system clock fast of NTP time (chronyc's sense). */
  systemTime: number;
  /** Last offset, seconds. */
  lastOffset: number;
  /** Frequency, ppm, + = fast (chronyc's sense). */
  freqPpm: number;
  /** Skew, ppm. */
  skewPpm: number;
}

/** Parses `chronyc tracking` output; null when it is not a tracking report. */
export function parseTracking(text: string, t: number): TrackingSample | null {
  const field = (name: string) => text.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1];
  const ref = field("Reference ID");
  const sys = field("System time")?.match(/^([-+0-9.eE]+) seconds (fast|slow)/);
  const last = field("Last offset")?.match(/^([-+0-9.eE]+) seconds/);
  const freq = field("Frequency")?.match(/^([-+0-9.eE]+) ppm (fast|slow)/);
  const skew = field("Skew")?.match(/^([-+0-9.eE]+) ppm/);
  if (ref === undefined || !sys || !last || !freq || !skew) return null;
  return {
    t,
    synced: !/^0+\b/.test(ref),
    refTime: field("Ref time \\(UTC\\)") ?? "",
    systemTime: Number(sys[1]) * (sys[2] === "fast" ? 1 : -1),
    lastOffset: Number(last[1]),
    freqPpm: Number(freq[1]) * (freq[2] === "fast" ? 1 : -1),
    skewPpm: Number(skew[1]),
  };
}

/** The figures of one client in one scenario. */
export interface ClientResult {
  /** Seconds from start to the first sample with a reference, null if never. */
  syncS: number | null;
  /** Max |System time| after the first 30 s, µs. */
  maxSysUs: number;
  /** RMS System time after the first 30 s, µs. */
  rmsSysUs: number;
  /** RMS of Last offset over the clock updates after the first 30 s, µs. */
  rmsLastUs: number;
  /** Final frequency, ppm (ideal 0). */
  freqPpm: number;
  /** Final skew, ppm. */
  skewPpm: number;
  /** Samples taken. */
  samples: number;
}

/** Reduces a client's samples to the table's figures. */
export function summarize(samples: TrackingSample[], settleS = 30): ClientResult {
  const first = samples.find((s) => s.synced);
  const after = samples.filter((s) => s.t >= settleS);
  const rms = (xs: number[]) =>
    xs.length ? Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length) : NaN;
  const updates: number[] = [];
  let lastRef = "";
  for (const s of after) {
    if (s.refTime !== lastRef && s.synced) updates.push(s.lastOffset);
    lastRef = s.refTime;
  }
  const last = samples[samples.length - 1];
  return {
    syncS: first ? first.t : null,
    maxSysUs: after.length ? Math.max(...after.map((s) => Math.abs(s.systemTime))) * 1e6 : NaN,
    rmsSysUs: rms(after.map((s) => s.systemTime)) * 1e6,
    rmsLastUs: rms(updates) * 1e6,
    freqPpm: last ? last.freqPpm : NaN,
    skewPpm: last ? last.skewPpm : NaN,
    samples: samples.length,
  };
}

interface Client {
  name: string;
  cmdPort: number;
  started: number;
  output(): string;
  stop(): Promise<void>;
}

/** Directives that make a client write chrony-style measurement logs into `dir`. */
function logDirectives(dir: string | null): string[] {
  return dir === null ? [] : [`logdir ${dir}`, "log measurements statistics tracking"];
}

async function startChronydClient(
  relayPort: number,
  serverOpts: string,
  logDir: string | null,
): Promise<Client> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-rt-chronyd-" });
  const cmdPort = freeUdpPort();
  const conf = [
    `server 127.0.0.1 port ${relayPort} ${serverOpts}`,
    "port 0",
    `cmdport ${cmdPort}`,
    "bindcmdaddress 127.0.0.1",
    "bindcmdaddress /",
    `pidfile ${dir}/chronyd.pid`,
    `driftfile ${dir}/drift`,
    ...logDirectives(logDir),
  ].join("\n");
  await Deno.writeTextFile(`${dir}/chronyd.conf`, conf + "\n");
  const started = performance.now();
  let bg: Background;
  try {
    bg = startBackground(findChronyd() ?? "chronyd", [
      "-x",
      "-d",
      "-u",
      "root",
      "-f",
      `${dir}/chronyd.conf`,
    ]);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    name: "chronyd",
    cmdPort,
    started,
    output: bg.output,
    async stop() {
      await bg.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function startTempusClient(
  relayPort: number,
  serverOpts: string,
  debug: boolean,
  logDir: string | null,
): Promise<Client> {
  const started = performance.now();
  const t: TempusUnderTest = await startTempusDaemon(relayPort, logDirectives(logDir), {
    serverOptions: serverOpts,
    args: debug ? ["-d"] : [],
  });
  return {
    name: "tempus",
    cmdPort: t.cmdPort,
    started,
    output: t.output,
    stop: () => t.stop(),
  };
}

async function sampleTracking(client: Client): Promise<TrackingSample | null> {
  const t = (performance.now() - client.started) / 1000;
  const out = await runCommand(
    "chronyc",
    ["-n", "-h", "127.0.0.1", "-p", `${client.cmdPort}`, "tracking"],
    2000,
  );
  return parseTracking(out.stdout, t);
}

interface ScenarioRun {
  scenario: RealtimeScenario;
  seconds: number;
  results: Map<string, ClientResult>;
  relayStats: string;
}

async function runScenario(
  server: ChronydServer,
  scenario: RealtimeScenario,
  seconds: number,
  serverOpts: string,
  logDir: string | null,
  debug: boolean,
): Promise<ScenarioRun> {
  const relays: ImpairRelay[] = [];
  const clients: Client[] = [];
  const samples = new Map<string, TrackingSample[]>();
  const syncAt = new Map<string, number>();
  try {
    const windows = scenario.windows?.(seconds) ?? [];
    const relayFor = () => {
      const relay = startImpairRelay({
        upstreamHost: server.address,
        upstreamPort: server.port,
        up: scenario.up,
        down: scenario.down,
        windows,
        seed: 12345,
      });
      relays.push(relay);
      return relay;
    };
    const chronyPort = scenario.direct ? server.port : relayFor().port;
    const tempusPort = scenario.direct ? server.port : relayFor().port;
    const logsOf = async (name: string) => {
      if (logDir === null) return null;
      const dir = `${logDir}/${scenario.name}-${name}`;
      await Deno.mkdir(dir, { recursive: true });
      return dir;
    };
    clients.push(await startChronydClient(chronyPort, serverOpts, await logsOf("chronyd")));
    clients.push(
      await startTempusClient(tempusPort, serverOpts, debug, await logsOf("tempus")),
    );
    for (const c of clients) samples.set(c.name, []);
    const begin = performance.now();
    // Until a client has a reference, it is asked every 100 ms (for the sync time, at most
    // 30 s); then once a second, for `seconds` seconds in all (bounded loops).
    await Promise.all(clients.map(async (c) => {
      for (let i = 0; i < 300; i++) {
        const s = await sampleTracking(c);
        if (s?.synced) {
          syncAt.set(c.name, s.t);
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }));
    for (let i = 1; i <= seconds; i++) {
      const due = begin + i * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -1000) continue; // the sync phase used this second
      const got = await Promise.all(clients.map(sampleTracking));
      got.forEach((s, k) => {
        if (s) samples.get(clients[k].name)!.push(s);
      });
    }
    const results = new Map<string, ClientResult>();
    for (const c of clients) {
      const r = summarize(samples.get(c.name)!);
      results.set(c.name, { ...r, syncS: syncAt.get(c.name) ?? r.syncS });
    }
    const relayStats = relays.map((r, k) => {
      const st = r.stats;
      return `${clients[k].name}: up ${st.upReceived}/${st.upSent} down ` +
        `${st.downReceived}/${st.downSent} lost ${st.lost} outage ${st.outageDropped} ` +
        `overflow ${st.overflowDropped} evicted ${st.evicted}`;
    }).join("; ") || "none (direct)";
    return { scenario, seconds, results, relayStats };
  } finally {
    if (logDir !== null) {
      await Deno.mkdir(logDir, { recursive: true });
      for (const c of clients) {
        await Deno.writeTextFile(`${logDir}/${scenario.name}-${c.name}.log`, c.output());
        await Deno.writeTextFile(
          `${logDir}/${scenario.name}-${c.name}.samples.json`,
          JSON.stringify(samples.get(c.name) ?? [], null, 1),
        );
      }
    }
    await Promise.all(clients.map((c) => c.stop().catch(() => {})));
    await Promise.all(relays.map((r) => r.close().catch(() => {})));
  }
}

function fmt(x: number | null, digits = 0): string {
  if (x === null) return "never";
  if (!Number.isFinite(x)) return "-";
  return x.toFixed(digits);
}

/** Formats the comparison table. */
export function formatTable(runs: ScenarioRun[]): string {
  const header = [
    "scenario",
    "s",
    "client",
    "sync s",
    "max abs sys µs",
    "RMS sys µs",
    "RMS last offset µs",
    "freq ppm",
    "skew ppm",
  ];
  const rows: string[][] = [];
  for (const run of runs) {
    for (const [client, r] of run.results) {
      rows.push([
        run.scenario.name,
        `${run.seconds}`,
        client,
        fmt(r.syncS, 1),
        fmt(r.maxSysUs, 1),
        fmt(r.rmsSysUs, 1),
        fmt(r.rmsLastUs, 1),
        fmt(r.freqPpm, 3),
        fmt(r.skewPpm, 3),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join(" | ") +
    " |";
  const sep = "|" + widths.map((w, i) => (i < 3 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":"))
    .join("|") +
    "|";
  return [line(header), sep, ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string" },
      scenario: { type: "string", multiple: true },
      minpoll: { type: "string", default: "-2" },
      maxpoll: { type: "string", default: "2" },
      log: { type: "string" },
      debug: { type: "boolean", default: false },
    },
  });
  if (!findChronyd() || !haveBinary("chronyc")) {
    console.log("chronyd or chronyc not installed: nothing to compare against");
    return;
  }
  const wanted = values.scenario ?? [];
  const unknown = wanted.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    console.error(
      `unknown scenario ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.name).join(", ")}`,
    );
    Deno.exit(2);
  }
  const chosen = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  const override = values.seconds === undefined ? null : Number(values.seconds);
  if (override !== null && !(override >= 10 && override <= 3600)) {
    console.error("--seconds must be between 10 and 3600");
    Deno.exit(2);
  }
  const serverOpts = `iburst minpoll ${values.minpoll} maxpoll ${values.maxpoll}`;
  const server = await startChronydServer({ stratum: 1 });
  const runs: ScenarioRun[] = [];
  try {
    for (const scenario of chosen) {
      const seconds = override ?? scenario.seconds;
      console.error(`# ${scenario.name} (${seconds} s): ${scenario.description}`);
      const run = await runScenario(
        server,
        scenario,
        seconds,
        serverOpts,
        values.log ?? null,
        values.debug,
      );
      console.error(`#   relay packets (received/sent): ${run.relayStats}`);
      runs.push(run);
    }
  } finally {
    await server.stop();
  }
  const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
  console.log(
    `server: chronyd -x local stratum 1 on loopback; clients: ${serverOpts}; ` +
      `figures after the first 30 s; load average ${load}`,
  );
  console.log(formatTable(runs));
}

if (import.meta.main) await main();
