/**
 * NTS server throughput beside chronyd, in one run: `deno run -A --unstable-net
 * tests/bench/nts_bench.ts [--seconds S] [--rounds N] [--workers W] [--inflight F]`.
 *
 * For `tempus daemon -x` and `chronyd 4.3 -x` (both `local stratum 1`, NTS with the same
 * certificate from a private CA made here, on loopback), alternately, N rounds each:
 * - NTS-KE handshakes per second: W concurrent clients (tempus's NTS-KE client, OpenSSL through
 *   FFI) each running full TLS 1.3 + NTS-KE exchanges back to back for S seconds.
 * - NTS-protected NTP requests per second: one socket keeps F requests in flight for S seconds;
 *   the requests are built once from one NTS-KE's keys and cookie (neither server remembers
 *   identifiers, so resending them costs the servers a full check, cookie opening and reply
 *   sealing with fresh cookies, each time); a sample of replies is verified.
 * - Accuracy with NTS against without: 40 exchanges of tempus's one-shot measurement (the
 *   daemon's tests) with the server over NTS and 40 without, spaced 20 ms: median offset and
 *   median delay of each.
 * The load generator runs in Deno on the same 2 shared cores, so it limits both servers alike.
 * Never touches the clock.
 */
import { parseArgs } from "node:util";
import { freeUdpPort, startChronydServer, waitFor } from "../helpers/peers.ts";
import { freeTcpPort, makeCa, makeServerCertificate } from "../helpers/nts_certs.ts";
import { startTempusDaemon } from "../helpers/tempus_daemon.ts";
import { ntsKeExchange } from "../../src/nts/ke_client.ts";
import { buildNtsRequest, verifyNtsReply } from "../../src/nts/ntp_fields.ts";
import { emptyPacket, NtpMode } from "../../src/ntp/packet.ts";
import { runBurst } from "../../src/sync/burst.ts";
import { ntsOneShot } from "../../src/sync/nts_one_shot.ts";
import { systemTimeSource } from "../../src/clock/kernel_ops.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    workers: { type: "string", default: "4" },
    inflight: { type: "string", default: "64" },
  },
});
const SECONDS = Number(args.values.seconds);
const ROUNDS = Number(args.values.rounds);
const WORKERS = Number(args.values.workers);
const INFLIGHT = Number(args.values.inflight);

async function keRate(port: number, ca: string): Promise<{ rate: number; failed: number }> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (performance.now() < end) {
      try {
        await ntsKeExchange({ host: "127.0.0.1", port, caFile: ca });
        done++;
      } catch {
        failed++;
      }
    }
  }));
  return { rate: done / SECONDS, failed };
}

async function ntpRate(kePort: number, ca: string): Promise<{ rate: number; verified: boolean }> {
  const ke = await ntsKeExchange({ host: "127.0.0.1", port: kePort, caFile: ca });
  const pool = Array.from({ length: 512 }, (_, i) => {
    const uniqueId = crypto.getRandomValues(new Uint8Array(32));
    const bytes = buildNtsRequest({
      header: { ...emptyPacket(NtpMode.Client), transmitTime: BigInt(i + 1) << 20n },
      uniqueId,
      cookie: ke.cookies[i % ke.cookies.length],
      placeholders: 0,
      c2sKey: ke.c2sKey,
      nonce: crypto.getRandomValues(new Uint8Array(16)),
    });
    return { bytes, uniqueId };
  });
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = { transport: "udp" as const, hostname: ke.ntpServer, port: ke.ntpPort };
  let next = 0;
  let received = 0;
  let verified = false;
  const send = () => sock.send(pool[next++ % pool.length].bytes, to).catch(() => 0);
  for (let i = 0; i < INFLIGHT; i++) await send();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  const timer = setTimeout(() => sock.close(), SECONDS * 1000 + 500);
  try {
    while (performance.now() < end) {
      const [bytes] = await sock.receive();
      received++;
      if (!verified) {
        verified = pool.some((p) => verifyNtsReply(bytes, ke.s2cKey, p.uniqueId).ok);
      }
      await send();
    }
  } catch {
    // closed at the deadline
  } finally {
    clearTimeout(timer);
    try {
      sock.close();
    } catch { /* closed */ }
  }
  return { rate: received / ((performance.now() - start) / 1000), verified };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

/** Median offset and delay (µs) of 40 exchanges with and without NTS. */
async function accuracy(kePort: number, ca: string): Promise<string> {
  const { server, auth } = await ntsOneShot("127.0.0.1", "127.0.0.1", { port: kePort, caFile: ca });
  const options = {
    count: 40,
    spacingMs: 20,
    retryAfterMs: 250,
    timeoutMs: 1000,
    clock: systemTimeSource().realtime,
    randomFill: (b: Uint8Array) => crypto.getRandomValues(b),
  };
  const plain = await runBurst(server, options);
  const nts = await runBurst(server, { ...options, auth });
  const fmt = (r: typeof plain) =>
    `${(median(r.samples.map((x) => x.offset)) * 1e6).toFixed(1).padStart(7)} / ` +
    `${(median(r.samples.map((x) => x.delay)) * 1e6).toFixed(1).padStart(6)} (${r.samples.length})`;
  return `${fmt(plain)} | ${fmt(nts)}`;
}

const dir = await Deno.makeTempDir({ prefix: "tempus-nts-bench-" });
try {
  await makeCa(dir, "ca");
  await makeServerCertificate(dir, "ca");
  const ca = `${dir}/ca.crt`;
  const rows: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const which of ["tempus daemon -x", "chronyd 4.3 -x"]) {
      const kePort = freeTcpPort();
      const nts = [
        `ntsserverkey ${dir}/server.key`,
        `ntsservercert ${dir}/server.crt`,
        `ntsport ${kePort}`,
      ];
      let stop: () => Promise<void>;
      if (which.startsWith("chronyd")) {
        await Deno.mkdir(`${dir}/c${round}`, { recursive: true });
        const c = await startChronydServer({
          extra: [...nts, `ntsdumpdir ${dir}/c${round}`, "ntsprocesses 1"],
        });
        stop = () => c.stop();
      } else {
        const upstream = await startChronydServer();
        const ntpPort = freeUdpPort();
        const t = await startTempusDaemon(upstream.port, [
          ...nts,
          "local stratum 1",
          "allow 127.0.0.1",
          `port ${ntpPort}`,
          "bindaddress 127.0.0.1",
        ]);
        await waitFor(() => /NTS-KE server listening/.test(t.output()), 10_000, "tempus NTS-KE");
        stop = async () => {
          await t.stop();
          await upstream.stop();
        };
      }
      try {
        const acc = await accuracy(kePort, ca);
        const ke = await keRate(kePort, ca);
        const ntp = await ntpRate(kePort, ca);
        const cells = [
          which.padEnd(16),
          String(round).padStart(5),
          ke.rate.toFixed(1).padStart(13),
          String(ke.failed).padStart(9),
          ntp.rate.toFixed(0).padStart(14),
          (ntp.verified ? "yes" : "NO").padStart(8),
          acc,
        ];
        rows.push(cells.join(" | "));
        console.error(rows[rows.length - 1]);
      } finally {
        await stop();
      }
    }
  }
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(
    `${
      new Date().toISOString().slice(0, 16)
    }Z, ${navigator.hardwareConcurrency} CPUs, load average ${load}; ` +
      `${WORKERS} NTS-KE clients, ${INFLIGHT} NTS requests in flight, ${SECONDS} s each\n\n` +
      "server           | round | NTS-KE/s      | KE failed | NTS requests/s | verified | " +
      "plain offset / delay us (n) | NTS offset / delay us (n)\n" +
      "-----------------|------:|--------------:|----------:|---------------:|---------:|" +
      "----------------------------:|--------------------------:\n" +
      rows.join("\n"),
  );
} finally {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
