/**
 * NTP server benchmark.
 *
 * - `./deno bench -A tests/bench/server_bench.ts`: the pure responder's cost per request.
 * - `./deno task bench:server [--requests N] [--rounds R] [--window W] [--sockets S]
 *   [--seconds T] [--flood-seconds F] [--light-seconds L] [--bundle] [--xdp] [--generators G]`:
 *   `tempus daemon -x`
 *   (from the source tree, or with --bundle from one `deno bundle` file as dist/tempus runs
 *   it) and a real `chronyd -x` (both `local stratum 1`, `allow 127.0.0.0/8`, on 127.0.0.1),
 *   started alternately in the same run, R rounds, driven by a native load generator
 *   (tests/bench/ntp_load.c, compiled here with gcc) that keeps W requests in flight from S
 *   sockets. For each server and round: start-up time to the first answered request, idle
 *   RSS, the served offset of the lightly used server (about two requests a second for L
 *   seconds, default 20), requests/s, p50/p99 latency, CPU per request, lost requests, RSS
 *   after the load, and the offset `chronyd -Q` measures against the server while the load
 *   runs. Then the same under a flood of twice the measured capacity from 256 source
 *   addresses (127.1.0.x) with `ratelimit` on, while 64 well-behaved clients (127.2.0.x) ask
 *   every 500 ms. Prints tables (docs/benchmarks.md).
 * - `--xdp` adds `tempus daemon -x` with `xdpserver lo`, and with `xdpserver lo` and
 *   `xdpmode tc` (root): plain requests answered in the kernel (src/io/xdp/). Its work runs in the softirq of whoever sends, so beside each server's
 *   own CPU per request the tables give the machine's (every CPU's busy time over the load,
 *   load generators included, per request answered).
 * - `--generators G` runs G load generators at once (each with its share of the requests),
 *   so that one generator's CPU is not the limit: their rates are summed.
 *
 * Loopback only; every load is bounded in count and in time.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { AccessTable } from "../../src/core/access.ts";
import { ClientLog } from "../../src/core/client_log.ts";
import { NtpResponder } from "../../src/core/server.ts";
import { instantFromParts } from "../../src/base/time.ts";
import type { ReferenceState } from "../../src/core/types.ts";
import { clientRequest } from "../e2e/fixtures/fixture_process.ts";
import {
  chronydQuery,
  freeUdpPort,
  haveBinary,
  ntpAnswers,
  REPO_ROOT,
  runCommand,
  startBackground,
} from "../helpers/peers.ts";

const REF: ReferenceState = {
  synchronised: true,
  leap: 0,
  stratum: 1,
  refId: 0x47505300,
  refTime: instantFromParts(1_763_900_000),
  rootDelay: 0,
  rootDispersion: 1e-5,
  dispersionRate: 1e-6,
  precisionLog2: -25,
};

Deno.bench("responder: 48-octet request, allowed, client log, no rate limit", (b) => {
  const responder = new NtpResponder({
    access: new AccessTable([{ allow: true, subnet: "all", all: false }]),
    clientLog: new ClientLog({ random: () => 0.5 }),
  });
  const req = clientRequest(0x1234n);
  const from = { address: "192.0.2.1", port: 123 };
  let t = instantFromParts(1_763_900_100);
  b.start();
  for (let i = 0; i < 1000; i++) {
    t += 1000n;
    responder.respond(req, from, t, REF, () => t);
  }
  b.end();
});

/** The rate limit both servers get in the flood runs (chrony syntax). */
const FLOOD_RATELIMIT = "ratelimit interval -1 burst 4 leak 2";
/** Well-behaved clients in the flood runs, and how often each asks (ms, = 2^interval). */
const LEGIT_CLIENTS = 64;
const LEGIT_MS = 500;
/** Flooding source addresses. */
const FLOOD_SOURCES = 256;
/**
 * The lightly used server: IDLE_CLIENTS clients asking every IDLE_MS ms (staggered, so one
 * request every IDLE_MS / IDLE_CLIENTS ms), plus the load generator's one request a second
 * from its flood socket; the served offset of each reply is measured as under load.
 */
const IDLE_CLIENTS = 2;
const IDLE_MS = 2000;

/** One line of the load generator's output, parsed. */
type LoadResult = Record<string, number>;

/** A server under test. */
interface Running {
  pid: number;
  port: number;
  startupMs: number;
  /** performance.now() at the spawn. */
  spawnedAt: number;
  stop(): Promise<void>;
}

/**
 * Idle RSS is read this long after the spawn: after tempus has given back its start-up
 * pages (src/io/startup_pages.ts, 3 s after start-up), the same for both servers.
 */
const IDLE_RSS_AT_MS = 5000;

interface Target {
  name: string;
  start(extra: string[]): Promise<Running>;
}

/** The name of the xdpserver target. */
const XDP_TARGET = "tempus xdp -x";

/** Busy time of every CPU so far (all but idle and iowait in /proc/stat), seconds. */
function machineBusySeconds(): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = t;
  return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ
}

/**
 * Runs `generators` load generators at once on `args(requestsEach)` and merges their results:
 * counts and rates summed, p50 the mean, p99 the largest, offsets from the first.
 */
async function runLoads(
  bin: string,
  generators: number,
  args: (share: number) => string[],
  total: number,
): Promise<LoadResult> {
  const share = Math.max(1, Math.floor(total / generators));
  const all = await Promise.all([...Array(generators)].map(() => runLoad(bin, args(share))));
  const merged: LoadResult = { ...all[0] };
  for (const key of ["sent", "received", "lost", "kod", "rate"]) {
    merged[key] = all.reduce((sum, r) => sum + (r[key] ?? 0), 0);
  }
  merged.p50_us = all.reduce((sum, r) => sum + r.p50_us, 0) / all.length;
  merged.p99_us = Math.max(...all.map((r) => r.p99_us));
  return merged;
}

/** Compiles the load generator with gcc into a temporary directory. */
async function compileLoadGenerator(dir: string): Promise<string> {
  const out = `${dir}/ntp_load`;
  const src = new URL("./ntp_load.c", import.meta.url).pathname;
  const r = await runCommand("gcc", ["-O2", "-Wall", "-o", out, src], 60_000);
  if (r.code !== 0) throw new Error(`gcc failed:\n${r.stdout}${r.stderr}`);
  return out;
}

/** Runs the load generator; its key=value line as numbers. */
async function runLoad(bin: string, args: string[]): Promise<LoadResult> {
  const r = await runCommand(bin, args, 120_000);
  const out: LoadResult = {};
  for (const m of r.stdout.matchAll(/(\w+)=([-0-9.]+)/g)) out[m[1]] = Number(m[2]);
  if (!("received" in out)) throw new Error(`load generator: ${r.stdout}${r.stderr}`);
  return out;
}

/** CPU seconds (user + system) used so far by process `pid`, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are at index 11 and 12 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ = 100 on Linux
}

/** Resident set size of `pid`, MB. */
function rssMb(pid: number): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Starts a server process and times it to its first answered request. */
async function startServer(
  cmd: string,
  args: string[],
  port: number,
  pidOf: () => number,
): Promise<Running> {
  const t0 = performance.now();
  const bg = startBackground(cmd, args);
  const deadline = t0 + 20_000;
  while (!(await ntpAnswers("127.0.0.1", port))) {
    if (performance.now() > deadline) {
      await bg.stop();
      throw new Error(`${cmd} did not answer:\n${bg.output()}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const startupMs = performance.now() - t0;
  return { pid: pidOf(), port, startupMs, spawnedAt: t0, stop: () => bg.stop() };
}

/** Bundles tempus into one file in `dir`, as dist/tempus ships it; returns its path. */
async function bundleTempus(dir: string): Promise<string> {
  const file = `${dir}/tempus.js`;
  const r = await runCommand(
    Deno.execPath(),
    ["bundle", "--quiet", "--platform", "deno", "-o", file, `${REPO_ROOT}mod.ts`],
    120_000,
  );
  if (r.code !== 0) throw new Error(`deno bundle failed: ${r.stderr}`);
  return file;
}

function targets(dir: string, program: string, xdp: boolean): Target[] {
  const tempus = (name: string, own: string[]): Target => ({
    name,
    start(extra) {
      const port = freeUdpPort();
      const pidfile = `${dir}/tempus-${port}.pid`;
      return startServer(
        Deno.execPath(),
        [
          "run",
          "-A",
          "--unstable-net",
          "--quiet",
          program,
          "daemon",
          "-x",
          "-d",
          "local stratum 1",
          "allow 127.0.0.0/8",
          "bindaddress 127.0.0.1",
          `port ${port}`,
          "cmdport 0",
          `pidfile ${pidfile}`,
          ...own,
          ...extra,
        ],
        port,
        () => Number(Deno.readTextFileSync(pidfile).trim()),
      );
    },
  });
  const list = [tempus(program.endsWith("mod.ts") ? "tempus daemon -x" : "tempus bundle -x", [])];
  if (xdp) {
    list.push(tempus(XDP_TARGET, ["xdpserver lo"]));
    list.push(tempus("tempus tc -x", ["xdpserver lo", "xdpmode tc"]));
  }
  if (haveBinary("chronyd")) {
    list.push({
      name: "chronyd 4.3 -x",
      async start(extra) {
        const port = freeUdpPort();
        const conf = `${dir}/chronyd-${port}.conf`;
        await Deno.writeTextFile(
          conf,
          [
            "local stratum 1",
            "allow 127.0.0.0/8",
            "bindaddress 127.0.0.1",
            `port ${port}`,
            "cmdport 0",
            `pidfile ${dir}/chronyd-${port}.pid`,
            ...extra,
          ].join("\n") + "\n",
        );
        return startServer(
          "chronyd",
          ["-x", "-d", "-u", "root", "-f", conf],
          port,
          () => Number(Deno.readTextFileSync(`${dir}/chronyd-${port}.pid`).trim()),
        );
      },
    });
  }
  return list;
}

/** RSS of `deno run` of an empty program that waits (the floor for any Deno daemon). */
async function denoFloorMb(dir: string): Promise<number> {
  const file = `${dir}/empty.ts`;
  await Deno.writeTextFile(file, "setTimeout(() => {}, 3000);\n");
  const child = new Deno.Command(Deno.execPath(), { args: ["run", "--quiet", file] }).spawn();
  await new Promise((r) => setTimeout(r, 1500));
  const rss = rssMb(child.pid);
  await child.status;
  return rss;
}

interface Row {
  name: string;
  round: number;
  startupMs: number;
  idleMb: number;
  load: LoadResult;
  cpuUs: number;
  /** Every CPU's busy time over the load per request answered, µs. */
  machineUs: number;
  loadMb: number;
  offsetUs: number;
  /** The lightly used server's served offsets (IDLE_CLIENTS), or null when not measured. */
  light: LoadResult | null;
}

interface FloodRow {
  name: string;
  round: number;
  rate: number;
  flood: LoadResult;
  cpuUs: number;
  /** Every CPU's busy time over the flood per request sent, µs. */
  machineUs: number;
  beforeMb: number;
  afterMb: number;
  offsetUs: number;
}

/**
 * The offset a client computed from the served timestamps (client and server share this
 * machine's clock, so it should be 0): median and 5th..95th percentiles, µs.
 */
const offsets = (l: LoadResult) =>
  `${fmt(l.offset_p50_us, 1, 0)} (${fmt(l.offset_p5_us, 1, 0)}..${fmt(l.offset_p95_us, 1, 0)})`;

const fmt = (x: number, d = 0, w = 8) => (Number.isFinite(x) ? x.toFixed(d) : "-").padStart(w);

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      requests: { type: "string", default: "300000" },
      window: { type: "string", default: "64" },
      sockets: { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "60" },
      "flood-seconds": { type: "string", default: "8" },
      "light-seconds": { type: "string", default: "20" },
      bundle: { type: "boolean", default: false },
      xdp: { type: "boolean", default: false },
      generators: { type: "string", default: "1" },
    },
  });
  const total = Number(values.requests);
  const window = Number(values.window);
  const sockets = Number(values.sockets);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const floodSeconds = Number(values["flood-seconds"]);
  const lightSeconds = Number(values["light-seconds"]);
  const generators = Number(values.generators);
  const seconds2 = [["flood-seconds", floodSeconds], ["light-seconds", lightSeconds]] as const;
  for (const [k, v] of seconds2) {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`--${k} must be a number >= 0`);
  }
  const counts = [
    ["requests", total],
    ["window", window],
    ["sockets", sockets],
    ["generators", generators],
  ] as const;
  for (const [k, v] of counts) {
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${k} must be a positive integer`);
  }
  if (!haveBinary("gcc")) throw new Error("gcc is needed to build the load generator");
  const dir = await Deno.makeTempDir({ prefix: "tempus-server-bench-" });
  try {
    const bin = await compileLoadGenerator(dir);
    const program = values.bundle ? await bundleTempus(dir) : `${REPO_ROOT}mod.ts`;
    const list = targets(dir, program, values.xdp);
    const floorMb = await denoFloorMb(dir);
    const rows: Row[] = [];
    const loadArgs = (port: number, n: number, t: number) => [
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      "-n",
      String(n),
      "-w",
      String(window),
      "-s",
      String(sockets),
      "-t",
      String(t),
    ];
    for (let round = 1; round <= rounds; round++) {
      for (const target of list) {
        const server = await target.start([]);
        try {
          const idleWait = server.spawnedAt + IDLE_RSS_AT_MS - performance.now();
          await new Promise((r) => setTimeout(r, Math.max(0, idleWait)));
          const idleMb = rssMb(server.pid);
          // Lightly used first: the served offset when each request finds the server idle.
          const light = lightSeconds > 0
            ? await runLoad(bin, [
              "-a",
              "127.0.0.1",
              "-p",
              String(server.port),
              "-r",
              "1",
              "-f",
              "1",
              "-l",
              String(IDLE_CLIENTS),
              "-L",
              String(IDLE_MS),
              "-t",
              String(lightSeconds),
            ])
            : null;
          await runLoad(bin, loadArgs(server.port, Math.min(20_000, total), 20));
          const cpu0 = cpuSeconds(server.pid);
          const machine0 = machineBusySeconds();
          const load = await runLoads(
            bin,
            generators,
            (n) => loadArgs(server.port, n, seconds),
            total,
          );
          const received = Math.max(1, load.received);
          const cpuUs = (cpuSeconds(server.pid) - cpu0) / received * 1e6;
          const machineUs = (machineBusySeconds() - machine0) / received * 1e6;
          const loadMb = rssMb(server.pid);
          // chronyd -Q against the server while a time-bounded load runs.
          const background = runLoad(bin, loadArgs(server.port, 1e9, 8));
          const q = await chronydQuery("127.0.0.1", server.port).catch(() => null);
          await background;
          rows.push({
            name: target.name,
            round,
            startupMs: server.startupMs,
            idleMb,
            load,
            cpuUs,
            machineUs,
            loadMb,
            offsetUs: q === null ? NaN : q.offset * 1e6,
            light,
          });
        } finally {
          await server.stop();
        }
      }
    }
    const capacity = Math.max(...rows.map((r) => r.load.rate));
    const floodRate = Math.round(2 * capacity);
    const floods: FloodRow[] = [];
    // The same flood against each server with the same ratelimit, and against tempus with
    // `kod 2` too (chronyd 4.3 has no kod option: it never sends KoD RATE).
    const floodTargets = [
      ...list.map((t) => ({ name: t.name, target: t, ratelimit: FLOOD_RATELIMIT })),
      { name: "tempus, kod 2", target: list[0], ratelimit: `${FLOOD_RATELIMIT} kod 2` },
      ...list.filter((t) => t.name === XDP_TARGET).map((t) => ({
        name: "tempus xdp, kod 2",
        target: t,
        ratelimit: `${FLOOD_RATELIMIT} kod 2`,
      })),
    ];
    for (let round = 1; floodSeconds > 0 && round <= Math.min(rounds, 2); round++) {
      for (const { name, target, ratelimit } of floodTargets) {
        const server = await target.start([ratelimit]);
        try {
          const idleWait = server.spawnedAt + IDLE_RSS_AT_MS - performance.now();
          await new Promise((r) => setTimeout(r, Math.max(0, idleWait)));
          const beforeMb = rssMb(server.pid);
          const cpu0 = cpuSeconds(server.pid);
          const machine0 = machineBusySeconds();
          const floodRun = runLoad(bin, [
            "-a",
            "127.0.0.1",
            "-p",
            String(server.port),
            "-r",
            String(floodRate),
            "-f",
            String(FLOOD_SOURCES),
            "-l",
            String(LEGIT_CLIENTS),
            "-L",
            String(LEGIT_MS),
            "-t",
            String(floodSeconds),
          ]);
          const q = await chronydQuery("127.0.0.1", server.port).catch(() => null);
          const flood = await floodRun;
          const sent = Math.max(1, flood.sent);
          const cpuUs = (cpuSeconds(server.pid) - cpu0) / sent * 1e6;
          const machineUs = (machineBusySeconds() - machine0) / sent * 1e6;
          floods.push({
            name,
            round,
            rate: floodRate,
            flood,
            cpuUs,
            machineUs,
            beforeMb,
            afterMb: rssMb(server.pid),
            offsetUs: q === null ? NaN : q.offset * 1e6,
          });
        } finally {
          await server.stop();
        }
      }
    }
    report(rows, floods, { total, window, sockets, rounds, floorMb, lightSeconds, generators });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function report(
  rows: Row[],
  floods: FloodRow[],
  o: {
    total: number;
    window: number;
    sockets: number;
    rounds: number;
    floorMb: number;
    lightSeconds: number;
    generators: number;
  },
): void {
  console.log(
    `${new Date().toISOString().slice(0, 16)}Z, ${navigator.hardwareConcurrency} CPUs, load ` +
      `average ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}; native load generator, ` +
      `${o.generators} x ${o.sockets} sockets x ${o.window} in flight, ${o.total} requests per ` +
      "run",
  );
  console.log(
    "\nserver           | round | answered/s | p50 us | p99 us | CPU us/req | machine us/req |  lost | " +
      "start ms | idle MB | load MB | offset us p50 (p5..p95) | T4-T3 us | chronyd -Q us",
  );
  console.log(
    "-----------------|------:|-----------:|-------:|-------:|-----------:|---------------:|------:|" +
      "---------:|--------:|--------:|------------------------:|---------:|--------------:",
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(16)} | ${String(r.round).padStart(5)} | ${fmt(r.load.rate, 0, 10)} | ` +
        `${fmt(r.load.p50_us, 0, 6)} | ${fmt(r.load.p99_us, 0, 6)} | ${fmt(r.cpuUs, 2, 10)} | ` +
        `${fmt(r.machineUs, 2, 14)} | ` +
        `${fmt(r.load.lost, 0, 5)} | ${fmt(r.startupMs, 0, 8)} | ${fmt(r.idleMb, 1, 7)} | ` +
        `${fmt(r.loadMb, 1, 7)} | ${offsets(r.load).padStart(23)} | ` +
        `${fmt(r.load.txlag_p50_us, 1, 8)} | ${fmt(r.offsetUs, 0, 13)}`,
    );
  }
  console.log(`\nRSS floor, deno run of an empty program: ${o.floorMb.toFixed(1)} MB`);
  const light = rows.filter((r) => r.light !== null);
  if (light.length > 0) {
    console.log(
      `\nlightly used: ${IDLE_CLIENTS} clients asking every ${IDLE_MS} ms, staggered, and one ` +
        `request a second from one more, for ${o.lightSeconds} s before the load above (every ` +
        `request finds the server idle); the offset is over the ${IDLE_CLIENTS} clients' replies`,
    );
    console.log(
      "\nserver           | round | answered | offset us p50 (p5..p95) | T4-T3 us | p50 us",
    );
    console.log(
      "-----------------|------:|---------:|------------------------:|---------:|-------:",
    );
    for (const r of light) {
      const l = r.light!;
      console.log(
        `${r.name.padEnd(16)} | ${String(r.round).padStart(5)} | ` +
          `${`${l.legit_received}/${l.legit_sent}`.padStart(8)} | ${offsets(l).padStart(23)} | ` +
          `${fmt(l.txlag_p50_us, 1, 8)} | ${fmt(l.legit_p50_us, 0, 6)}`,
      );
    }
  }
  if (floods.length === 0) return;
  console.log(
    `\nflood: ${floods[0].rate} requests/s (2x the best rate above) from ${FLOOD_SOURCES} ` +
      `addresses, "${FLOOD_RATELIMIT}", plus ${LEGIT_CLIENTS} clients asking every ` +
      `${LEGIT_MS} ms`,
  );
  console.log(
    "\nserver           | round | flood sent | answered | KoD RATE | CPU us/req | machine us/req | " +
      "legit answered | legit p50 us | legit offset us p50 (p5..p95) | RSS MB before/after | " +
      "chronyd -Q us",
  );
  console.log(
    "-----------------|------:|-----------:|---------:|---------:|-----------:|---------------:|" +
      "---------------:|-------------:|------------------------------:|--------------------:|" +
      "--------------:",
  );
  for (const f of floods) {
    const legit = `${f.flood.legit_received}/${f.flood.legit_sent}`;
    console.log(
      `${f.name.padEnd(16)} | ${String(f.round).padStart(5)} | ${fmt(f.flood.sent, 0, 10)} | ` +
        `${fmt(f.flood.received, 0, 8)} | ${fmt(f.flood.kod, 0, 8)} | ${fmt(f.cpuUs, 2, 10)} | ` +
        `${fmt(f.machineUs, 2, 14)} | ` +
        `${legit.padStart(14)} | ${fmt(f.flood.legit_p50_us, 0, 12)} | ` +
        `${offsets(f.flood).padStart(30)} | ` +
        `${(f.beforeMb.toFixed(1) + " / " + f.afterMb.toFixed(1)).padStart(19)} | ` +
        `${fmt(f.offsetUs, 0, 13)}`,
    );
  }
}

if (import.meta.main) await main();
