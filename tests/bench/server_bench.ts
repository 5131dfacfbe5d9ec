/**
 * NTP server benchmark.
 *
 * - `./deno bench -A tests/bench/server_bench.ts`: the pure responder's cost per request.
 * - `./deno run -A tests/bench/server_bench.ts [--requests N] [--window W] [--sockets S]
 *   [--rounds R]`: requests per second answered and reply latency (p50/p99) of tempus's
 *   server (kernel and daemon timestamping) beside a real `chronyd -x` (local stratum 1,
 *   allow 127.0.0.0/8) on loopback in the same run, driven by the load generator below
 *   (S sockets, each keeping W requests outstanding, N requests in all). Prints a table.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { AccessTable } from "../../src/core/access.ts";
import { ClientLog } from "../../src/core/client_log.ts";
import { NtpResponder } from "../../src/core/server.ts";
import { instantFromParts } from "../../src/core/time.ts";
import type { ReferenceState } from "../../src/core/types.ts";
import { clientRequest, startFixture } from "../e2e/fixtures/fixture_process.ts";
import { haveBinary, startChronydServer } from "../helpers/peers.ts";

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

/** What one load run measured. */
interface LoadResult {
  sent: number;
  received: number;
  seconds: number;
  p50us: number;
  p99us: number;
}

/**
 * Drives `host:port` with `total` requests from `sockets` sockets, each keeping `window`
 * requests outstanding; requests lost for 200 ms are written off and replaced.
 */
async function load(
  host: string,
  port: number,
  total: number,
  window: number,
  sockets: number,
): Promise<LoadResult> {
  const to = { transport: "udp" as const, hostname: host, port };
  const sendTimes = new Float64Array(total);
  const latencies: number[] = [];
  let sent = 0;
  let received = 0;
  let lost = 0;
  const conns: Deno.DatagramConn[] = [];
  const outstanding = new Array<number>(sockets).fill(0);
  const templates: Uint8Array[] = [];
  const start = performance.now();
  let lastProgress = start;

  const sendOne = (k: number): Promise<void> | null => {
    if (sent >= total) return null;
    const seq = sent++;
    const req = templates[k];
    new DataView(req.buffer).setUint32(44, seq);
    sendTimes[seq] = performance.now();
    outstanding[k]++;
    return conns[k].send(req, to).then(() => {}, () => {});
  };

  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => finish = r);
  const checkDone = () => {
    if (received + lost >= total) finish();
  };

  for (let k = 0; k < sockets; k++) {
    conns.push(Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }));
    templates.push(clientRequest(0n));
  }
  const loops = conns.map(async (conn, k) => {
    const buf = new Uint8Array(1024);
    try {
      for (;;) {
        const [data] = await conn.receive(buf);
        const now = performance.now();
        if (data.length < 48) continue;
        const seq = new DataView(data.buffer, data.byteOffset).getUint32(28);
        if (seq >= total || sendTimes[seq] === 0) continue;
        latencies.push(now - sendTimes[seq]);
        sendTimes[seq] = 0;
        received++;
        outstanding[k]--;
        lastProgress = now;
        const p = sendOne(k);
        if (p !== null) await p;
        checkDone();
      }
    } catch {
      // closed
    }
  });
  for (let k = 0; k < sockets; k++) {
    for (let i = 0; i < window; i++) await sendOne(k);
  }
  const watchdog = setInterval(() => {
    if (performance.now() - lastProgress < 200) return;
    // Write off everything outstanding and refill the windows.
    for (let k = 0; k < sockets; k++) {
      lost += outstanding[k];
      outstanding[k] = 0;
      for (let i = 0; i < window; i++) sendOne(k);
    }
    lastProgress = performance.now();
    checkDone();
  }, 50);
  await finished;
  const seconds = (performance.now() - start) / 1000;
  clearInterval(watchdog);
  for (const c of conns) c.close();
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  const q = (f: number) =>
    latencies.length ? latencies[Math.floor(f * (latencies.length - 1))] : NaN;
  return { sent, received, seconds, p50us: q(0.5) * 1000, p99us: q(0.99) * 1000 };
}

/** CPU seconds (user + system) used so far by process `pid`, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are at index 11 and 12 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ = 100 on Linux
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      requests: { type: "string", default: "50000" },
      window: { type: "string", default: "16" },
      sockets: { type: "string", default: "2" },
      rounds: { type: "string", default: "2" },
    },
  });
  const total = Number(values.requests);
  const window = Number(values.window);
  const sockets = Number(values.sockets);
  const rounds = Number(values.rounds);
  const rows: { name: string; r: LoadResult; cpuUs: number }[] = [];
  const targets: {
    name: string;
    start: () => Promise<{ port: number; pid: number; stop: () => Promise<void> }>;
  }[] = [
    {
      name: "tempus (kernel RX ts)",
      start: async () => {
        const f = await startFixture(["--port", "0", "--timestamping", "kernel"]);
        return { port: f.port, pid: f.pid, stop: f.stop };
      },
    },
    {
      name: "tempus (Deno socket)",
      start: async () => {
        const f = await startFixture(["--port", "0", "--timestamping", "daemon"]);
        return { port: f.port, pid: f.pid, stop: f.stop };
      },
    },
  ];
  if (haveBinary("chronyd")) {
    targets.push({
      name: "chronyd 4.3 -x",
      start: async () => {
        const chronyd = await startChronydServer();
        return { port: chronyd.port, pid: chronyd.child.pid, stop: () => chronyd.stop() };
      },
    });
  }
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const server = await t.start();
      try {
        await load("127.0.0.1", server.port, Math.min(2000, total), window, sockets); // warm-up
        const cpu0 = cpuSeconds(server.pid);
        const r = await load("127.0.0.1", server.port, total, window, sockets);
        const cpuUs = (cpuSeconds(server.pid) - cpu0) / r.received * 1e6;
        rows.push({ name: t.name, r, cpuUs });
      } finally {
        await server.stop();
      }
    }
  }
  console.log(
    `requests ${total}, ${sockets} sockets x window ${window}, ${rounds} rounds, ` +
      `${navigator.hardwareConcurrency} CPUs, load average ${Deno.loadavg().join(" ")}`,
  );
  console.log(
    "server                 | answered/s | answered | lost  | p50 µs | p99 µs | server CPU µs/req",
  );
  console.log(
    "-----------------------|-----------:|---------:|------:|-------:|-------:|-----------------:",
  );
  for (const { name, r, cpuUs } of rows) {
    console.log(
      `${name.padEnd(22)} | ${(r.received / r.seconds).toFixed(0).padStart(10)} | ` +
        `${String(r.received).padStart(8)} | ${String(r.sent - r.received).padStart(5)} | ` +
        `${r.p50us.toFixed(0).padStart(6)} | ${r.p99us.toFixed(0).padStart(6)} | ` +
        `${cpuUs.toFixed(1).padStart(17)}`,
    );
  }
}

if (import.meta.main) await main();
