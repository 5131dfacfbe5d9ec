/**
 * Interleaved (xleave) against basic mode where the server's transmit timestamp is late:
 * tempus and chronyd clients, basic and xleave, of a chronyd server and of a tempus server.
 *
 * Everything runs on the loopback of a network namespace this script creates (and removes)
 * whose `lo` egress is a token-bucket queue (tc tbf) kept full by a filler flow, so every
 * datagram waits there (about `--queue-ms`) after the sender read its time and before it
 * leaves: the transmit timestamp a basic server writes into its reply is that much early,
 * while the kernel's transmit timestamp (taken when the datagram leaves the queue) is right.
 * The clients' own requests wait too, but both tempus and chronyd use the kernel's transmit
 * timestamp of their requests. All processes share the host clock, so a client's true error
 * is its `chronyc tracking` "System time" (ideal 0). chronyd runs with -x, tempus with
 * `daemon -x`: the host clock is never touched. Needs root (ip netns, tc).
 *
 * Run: ./deno run -A --unstable-net tests/bench/xleave_compare.ts [--seconds N]
 *      [--queue-ms MS] [--filler-ms MS] [--no-queue] [--server chronyd|tempus]... [--keep-logs]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Background, haveBinary, runCommand, startBackground } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";
import { parseTracking, type TrackingSample } from "./realtime_compare.ts";

const args = parseArgs({
  options: {
    seconds: { type: "string", default: "120" },
    "queue-ms": { type: "string", default: "6" },
    "no-queue": { type: "boolean", default: false },
    server: { type: "string", multiple: true },
    "keep-logs": { type: "boolean", default: false },
    "filler-ms": { type: "string", default: "1" },
  },
});
const SECONDS = Number(args.values.seconds);
const QUEUE_MS = Number(args.values["queue-ms"]);
const QUEUE = !args.values["no-queue"];
const FILLER_MS = Number(args.values["filler-ms"]);
const SERVERS = (args.values.server ?? ["chronyd", "tempus"]) as ("chronyd" | "tempus")[];
const SETTLE_S = 40;
/** Keep each process's directory (measurements and tracking logs) and print where. */
const KEEP_LOGS = args.values["keep-logs"];
/** Queue rate: 4 Mbit/s = 500 octets per ms. */
const RATE_BYTES_PER_MS = 500;
const NS = `xleave-${Deno.pid}-${Math.floor(Math.random() * 1e6)}`;
const SERVER_PORT = 10123;

async function sh(cmd: string, argv: string[]): Promise<void> {
  const out = await runCommand(cmd, argv, 10_000);
  if (out.code !== 0) throw new Error(`${cmd} ${argv.join(" ")}: ${out.stderr}`);
}

/**
 * Starts `cmd` in the namespace. nsenter enters it and execs `cmd` in place (ip netns exec
 * forks and waits, so stopping it would leave `cmd` running), so stopping the background
 * process stops `cmd` itself.
 */
function inNs(cmd: string, argv: string[]): Background {
  return startBackground("nsenter", [`--net=/run/netns/${NS}`, "--", cmd, ...argv]);
}

async function setUpNamespace(): Promise<void> {
  await sh("ip", ["netns", "add", NS]);
  await sh("ip", ["-n", NS, "link", "set", "lo", "mtu", "1500", "up"]);
  if (QUEUE) {
    // A queue of QUEUE_MS at 4 Mbit/s; a bucket of one datagram, so it never drains at once.
    const limit = Math.round(QUEUE_MS * RATE_BYTES_PER_MS);
    await sh("ip", [
      "netns",
      "exec",
      NS,
      "tc",
      "qdisc",
      "add",
      "dev",
      "lo",
      "root",
      "tbf",
      "rate",
      "4mbit",
      "burst",
      "1100",
      "limit",
      `${limit}`,
    ]);
  }
}

/**
 * 1000-octet datagrams at twice the queue's rate, sent every `--filler-ms` (1 ms: a queue
 * that stays nearly full as long as the filler keeps pace; 20 ms with a queue much longer than
 * 20 ms: one that never drains below queue - 20 ms, so every datagram waits at least that),
 * to a socket of its own that reads and drops them.
 */
const FILLER = `
const s = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 10999 });
const buf = new Uint8Array(1000);
const to = { transport: "udp", hostname: "127.0.0.1", port: 10999 };
const pps = 2 * ${RATE_BYTES_PER_MS} * 1000 / 1042;
const t0 = performance.now();
let sent = 0;
setInterval(() => {
  const due = Math.floor((performance.now() - t0) / 1000 * pps);
  for (; sent < due; sent++) s.send(buf, to).catch(() => {});
}, ${FILLER_MS});
for (;;) { try { await s.receive(); } catch { break; } }
`;

interface Proc {
  name: string;
  cmdPort: number;
  bg: Background;
  dir: string;
  samples: TrackingSample[];
  started: number;
}

async function chronyd(name: string, lines: string[], cmdPort: number): Promise<Proc> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-xlc-" });
  const conf = [
    ...lines,
    `cmdport ${cmdPort}`,
    "bindcmdaddress 127.0.0.1",
    `pidfile ${dir}/chronyd.pid`,
    `driftfile ${dir}/drift`,
    ...(KEEP_LOGS ? ["log measurements tracking", `logdir ${dir}`] : []),
  ];
  await Deno.writeTextFile(`${dir}/chronyd.conf`, conf.join("\n") + "\n");
  const bg = inNs("chronyd", ["-x", "-d", "-u", "root", "-f", `${dir}/chronyd.conf`]);
  return { name, cmdPort, bg, dir, samples: [], started: performance.now() };
}

async function tempus(name: string, lines: string[], cmdPort: number): Promise<Proc> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-xlt-" });
  const bg = inNs(
    Deno.execPath(),
    tempusDaemonArgs([
      "-x",
      "-d", // in the foreground: stopping the process stops the daemon
      ...lines,
      `cmdport ${cmdPort}`,
      "bindcmdaddress 127.0.0.1",
      `pidfile ${dir}/tempus.pid`,
      `driftfile ${dir}/drift`,
      ...(KEEP_LOGS ? ["log measurements tracking", `logdir ${dir}`] : []),
    ]),
  );
  return { name, cmdPort, bg, dir, samples: [], started: performance.now() };
}

async function sample(p: Proc): Promise<void> {
  const out = await runCommand("ip", [
    "netns",
    "exec",
    NS,
    "chronyc",
    "-n",
    "-h",
    "127.0.0.1",
    "-p",
    `${p.cmdPort}`,
    "tracking",
  ], 5000);
  const s = parseTracking(out.stdout, (performance.now() - p.started) / 1000);
  if (s !== null) p.samples.push(s);
}

interface Row {
  server: string;
  client: string;
  meanUs: number;
  rmsUs: number;
  maxUs: number;
  n: number;
}

function summarise(server: string, p: Proc): Row {
  const xs = p.samples.filter((s) => s.t >= SETTLE_S && s.synced).map((s) => s.systemTime * 1e6);
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const rms = Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);
  const max = Math.max(...xs.map(Math.abs));
  return { server, client: p.name, meanUs: mean, rmsUs: rms, maxUs: max, n: xs.length };
}

async function runServer(kind: "chronyd" | "tempus"): Promise<Row[]> {
  const serverLines = [
    "local stratum 1",
    "allow 127.0.0.0/8",
    "bindaddress 127.0.0.1",
    `port ${SERVER_PORT}`,
  ];
  const server = kind === "chronyd"
    ? await chronyd("server", serverLines, 10300)
    : await tempus("server", serverLines, 10300);
  const procs: Proc[] = [];
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const line = (x: boolean) =>
      `server 127.0.0.1 port ${SERVER_PORT} iburst minpoll 0 maxpoll 0${x ? " xleave" : ""}`;
    procs.push(await chronyd("chronyd basic", [line(false), "port 0"], 10301));
    procs.push(await chronyd("chronyd xleave", [line(true), "port 0"], 10302));
    procs.push(await tempus("tempus basic", [line(false)], 10303));
    procs.push(await tempus("tempus xleave", [line(true)], 10304));
    const end = performance.now() + SECONDS * 1000;
    while (performance.now() < end) {
      const tick = performance.now();
      await Promise.all(procs.map(sample));
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - tick))));
    }
    return procs.map((p) => summarise(kind, p));
  } finally {
    for (const p of [...procs, server]) {
      await p.bg.stop();
      if (KEEP_LOGS) console.log(`${kind} / ${p.name}: ${p.dir}`);
      else await Deno.remove(p.dir, { recursive: true }).catch(() => {});
    }
  }
}

async function main(): Promise<void> {
  if (!haveBinary("chronyd") || !haveBinary("chronyc") || !haveBinary("tc")) {
    console.log("skipped: needs chronyd, chronyc, ip and tc (and root)");
    return;
  }
  const started = new Date().toISOString();
  await setUpNamespace();
  let filler: Background | null = null;
  const rows: Row[] = [];
  try {
    if (QUEUE) filler = inNs(Deno.execPath(), ["eval", "--unstable-net", FILLER]);
    for (const s of SERVERS) rows.push(...await runServer(s));
  } finally {
    await filler?.stop();
    await runCommand("ip", ["netns", "del", NS], 10_000).catch(() => {});
  }
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(
    `${started}: lo queue ${
      QUEUE ? `~${QUEUE_MS} ms (tbf 4mbit, filler every ${FILLER_MS} ms)` : "none"
    }; ` +
      `${SECONDS} s per server, figures after ${SETTLE_S} s; poll 1 s; load ${load}`,
  );
  console.log("| server  | client         | mean sys µs | RMS sys µs | max abs µs | samples |");
  console.log("|---------|----------------|------------:|-----------:|-----------:|--------:|");
  for (const r of rows) {
    console.log(
      `| ${r.server.padEnd(7)} | ${r.client.padEnd(14)} | ${r.meanUs.toFixed(1).padStart(11)} | ` +
        `${r.rmsUs.toFixed(1).padStart(10)} | ${r.maxUs.toFixed(1).padStart(10)} | ${
          String(r.n).padStart(7)
        } |`,
    );
  }
}

if (import.meta.main) await main();
