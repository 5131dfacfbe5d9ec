/**
 * `xdpserver` on a veth link beside the daemon's own path and chronyd: the served offset
 * `chronyd -Q` measures from another network namespace.
 *
 * `./deno task bench:xdpveth [--rounds N]` (root): a lab of network namespaces joined by a bridge
 * (tests/helpers/netns_lab.ts) holds five servers, each `local stratum 1` with `-x` on port 123
 * of its own namespace (so each serves the host clock): `tempus daemon` with `xdpserver eth0`
 * and `xdpmode native`, the same with `xdpmode generic` and with `xdpmode tc`, `tempus daemon`
 * without it, and `chronyd`. A client namespace runs `chronyd -Q` (measure only; 8 samples) against each in
 * turn, N rounds, and the table gives each server's median, smallest and largest offset over the
 * rounds. All share one clock, so the ideal is 0; chronyd -Q's own timestamps bias every figure
 * alike. In native mode veth runs the program in its NAPI poll, before the stack stamps the
 * frame, as a NIC driver with native XDP does; a veth sends an XDP_TX frame only when its peer
 * has NAPI too, so the peer on the bridge side gets a program that passes everything (this file
 * run with `--pass IFACE` in that namespace). In generic mode the program runs after the
 * backlog, as on loopback.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { labPossible, makeLab } from "../helpers/netns_lab.ts";
import { haveBinary, startBackground, waitFor } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";
import {
  BPF_PROG_TYPE_XDP,
  bpfProgLoad,
  bpfXdpLinkCreate,
  interfaceIndex,
  XdpAttachMode,
} from "../../ffi/bpf.ts";
import { EbpfAssembler } from "../../src/io/xdp/ebpf_assembler.ts";
import { KernelTimestampSocket } from "../../ffi/udp_socket.ts";

/**
 * Sends `count` client requests to `address`:123, 10 ms apart, from a socket with kernel
 * timestamps both ways, and prints the medians (µs) of T2 − T1 (request: served receive time
 * minus the kernel's transmit timestamp), T4 − T3 (reply: the kernel's receive timestamp minus
 * the served transmit time) and the offset ((T2 − T1) − (T4 − T3)) / 2, as JSON.
 */
async function probe(address: string, count: number): Promise<void> {
  const socket = KernelTimestampSocket.open("0.0.0.0", 0);
  if (!socket.enableTxTimestamps()) throw new Error("no kernel transmit timestamps");
  const ntp = (v: DataView, at: number) =>
    (BigInt(v.getUint32(at)) - 2_208_988_800n) * 1_000_000_000n +
    ((BigInt(v.getUint32(at + 4)) * 1_000_000_000n) >> 32n);
  const up: number[] = [];
  const down: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const request = new Uint8Array(48);
    request[0] = 0x23;
    crypto.getRandomValues(request.subarray(40));
    socket.send(request, address, 123);
    let t1: bigint | null = null;
    const deadline = performance.now() + 200;
    while (performance.now() < deadline) {
      t1 ??= socket.readTxTimestamp();
      const got = socket.receive();
      if (got !== null && t1 !== null && got.kernelRxRaw !== null) {
        const v = new DataView(got.data.buffer, got.data.byteOffset);
        const a = Number(ntp(v, 32) - t1) / 1000;
        const b = Number(got.kernelRxRaw - ntp(v, 40)) / 1000;
        up.push(a);
        down.push(b);
        offsets.push((a - b) / 2);
        break;
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  socket.close();
  const median = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];
  const p = (x: number[], f: number) => [...x].sort((a, b) => a - b)[Math.floor(x.length * f)];
  console.log(JSON.stringify({
    answered: offsets.length,
    up: median(up),
    down: median(down),
    offset: median(offsets),
    offset5: p(offsets, 0.05),
    offset95: p(offsets, 0.95),
  }));
}

/** Attaches an XDP program that passes everything to `name` (native) and waits to be killed. */
async function passForever(name: string): Promise<void> {
  const program = new EbpfAssembler().mov("r0", 2).exit().encode();
  const fd = bpfProgLoad(BPF_PROG_TYPE_XDP, program, "pass");
  bpfXdpLinkCreate(fd, interfaceIndex(name), XdpAttachMode.native);
  console.log("passing");
  await new Promise(() => setInterval(() => {}, 60_000)); // the link lives as long as we do
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "5" },
      pass: { type: "string" },
      probe: { type: "string" },
      count: { type: "string", default: "200" },
    },
  });
  if (values.pass !== undefined) return await passForever(values.pass);
  if (values.probe !== undefined) return await probe(values.probe, Number(values.count));
  const rounds = Number(values.rounds);
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error("--rounds must be >= 1");
  if (!(await labPossible()) || !haveBinary("chronyd")) {
    throw new Error("needs root, ip netns and chronyd");
  }
  const lab = await makeLab(
    "xdpv",
    ["native", "generic", "tc", "user", "chronyd", "client"],
    79,
  );
  try {
    const [nativeHost, genericHost, tcHost, userHost, chronydHost, client] = lab.hosts;
    // The native server's peer on the bridge (h0 in the hub namespace) needs NAPI for XDP_TX.
    const hub = nativeHost.ns.replace(/-native$/, "-hub");
    const pass = startBackground("ip", [
      "netns",
      "exec",
      hub,
      Deno.execPath(),
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--pass",
      "h0",
    ]);
    const tempusArgs = (dir: string, extra: string[]) =>
      tempusDaemonArgs([
        "-x",
        "-d",
        "local stratum 1",
        "allow all",
        "cmdport 0",
        `pidfile ${dir}/tempus.pid`,
        `bindcmdaddress ${dir}/tempus.sock`,
        ...extra,
      ]);
    const dirs = await Promise.all(
      [0, 1, 2, 3, 4].map(() => Deno.makeTempDir({ prefix: "xdpv-" })),
    );
    const native = nativeHost.start(
      Deno.execPath(),
      tempusArgs(dirs[0], ["xdpserver eth0", "xdpmode native"]),
    );
    const generic = genericHost.start(
      Deno.execPath(),
      tempusArgs(dirs[1], ["xdpserver eth0", "xdpmode generic"]),
    );
    const tc = tcHost.start(Deno.execPath(), tempusArgs(dirs[4], ["xdpserver eth0", "xdpmode tc"]));
    userHost.start(Deno.execPath(), tempusArgs(dirs[2], []));
    const conf = `${dirs[3]}/chronyd.conf`;
    await Deno.writeTextFile(
      conf,
      `local stratum 1\nallow all\ncmdport 0\npidfile ${dirs[3]}/chronyd.pid\n`,
    );
    chronydHost.start("chronyd", ["-x", "-d", "-u", "root", "-f", conf]);
    for (const [what, p] of [["native", native], ["generic", generic], ["tc", tc]] as const) {
      await waitFor(() => /answered in the kernel on eth0/.test(p.output()), 15_000, what)
        .catch((e) => {
          throw new Error(`${e.message}\n${p.output()}`);
        });
    }
    await waitFor(() => pass.output().includes("passing"), 15_000, "the peer's program");
    const servers = [
      { name: "tempus xdp native", address: nativeHost.address, offsets: [] as number[] },
      { name: "tempus xdp generic", address: genericHost.address, offsets: [] as number[] },
      { name: "tempus xdpmode tc", address: tcHost.address, offsets: [] as number[] },
      { name: "tempus daemon", address: userHost.address, offsets: [] as number[] },
      { name: "chronyd 4.3", address: chronydHost.address, offsets: [] as number[] },
    ];
    await new Promise((r) => setTimeout(r, 2000));
    interface Probe {
      answered: number;
      up: number;
      down: number;
      offset: number;
      offset5: number;
      offset95: number;
    }
    const probes = new Map<string, Probe[]>(servers.map((s) => [s.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const s of servers) {
        const out = await client.run("chronyd", [
          "-Q",
          "-u",
          "root",
          "-t",
          "20",
          `pidfile ${dirs[3]}/q.pid`,
          "cmdport 0",
          `server ${s.address} iburst maxsamples 8`,
        ], 25_000);
        const m = out.match(/System clock wrong by ([-+0-9.eE]+) seconds/);
        if (m === null) throw new Error(`chronyd -Q against ${s.name}:\n${out}`);
        s.offsets.push(Number(m[1]) * 1e6);
        const probed = await client.run(Deno.execPath(), [
          "run",
          "-A",
          new URL(import.meta.url).pathname,
          "--probe",
          s.address,
          "--count",
          "200",
        ], 60_000);
        probes.get(s.name)!.push(JSON.parse(probed.trim().split("\n").pop()!));
      }
    }
    console.log(
      `${new Date().toISOString().slice(0, 16)}Z, load average ` +
        `${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}; from a client namespace over a ` +
        `bridge, ${rounds} rounds, µs (+ = server ahead)`,
    );
    const f = (x: number, w = 6) => x.toFixed(1).padStart(w);
    console.log(
      "\nchronyd -Q (8 samples a round)\n\nserver                | median | smallest | largest",
    );
    console.log("----------------------|-------:|---------:|--------:");
    for (const s of servers) {
      const sorted = [...s.offsets].sort((a, b) => a - b);
      console.log(
        `${s.name.padEnd(21)} | ${f(sorted[sorted.length >> 1])} | ${f(sorted[0], 8)} | ` +
          `${f(sorted[sorted.length - 1], 7)}`,
      );
    }
    console.log(
      "\nkernel timestamps at the client (200 requests a round, 10 ms apart; medians of a round,\n" +
        "the range over rounds)\n\nserver                | answered | T2-T1 request | " +
        "T4-T3 reply | offset | offset p5..p95",
    );
    console.log(
      "----------------------|---------:|--------------:|------------:|-------:|--------------:",
    );
    const range = (x: number[]) => {
      const s = [...x].sort((a, b) => a - b);
      return `${s[s.length >> 1].toFixed(1)} (${s[0].toFixed(1)}..${s[s.length - 1].toFixed(1)})`;
    };
    for (const s of servers) {
      const p = probes.get(s.name)!;
      console.log(
        `${s.name.padEnd(21)} | ${String(p.reduce((n, x) => n + x.answered, 0)).padStart(8)} | ` +
          `${range(p.map((x) => x.up)).padStart(13)} | ${
            range(p.map((x) => x.down)).padStart(11)
          } | ` +
          `${range(p.map((x) => x.offset)).padStart(6)} | ` +
          `${f(Math.min(...p.map((x) => x.offset5)), 0)}..${
            f(Math.max(...p.map((x) => x.offset95)), 0)
          }`,
      );
    }
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
    await pass.stop();
  } finally {
    await lab.close();
  }
}

if (import.meta.main) await main();
