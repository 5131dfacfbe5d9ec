/**
 * Broadcast client versus ordinary client, side by side (docs/broadcast.md):
 *
 *   ./deno run -A --unstable-net tests/bench/broadcast_accuracy.ts [SECONDS]
 *
 * Three network namespaces on a bridge (made and removed here; needs root, ip, chronyd):
 * chronyd -x in A serves and broadcasts every second; tempus -x in B is its
 * `broadcastclient`; tempus -x in C polls it as a `server` every second (minpoll/maxpoll 0).
 * All three read the same system clock, so a measured offset is the measurement's error plus
 * what remains of the daemon's own (virtual) correction. Prints, per mode, the samples after
 * the first 30 s (for B: broadcast samples only, after the volley) and their median, mean
 * and RMS offset and median delay, from each daemon's measurements.log.
 *
 * @module
 */
import { findChronyd, runCommand } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const seconds = Number(Deno.args[0] ?? "120");
const tag = `${Deno.pid % 100000}`;
const HUB = `tempus-bcb-hub-${tag}`;
const HOSTS = ["a", "b", "c"].map((n, i) => ({
  ns: `tempus-bcb-${n}-${tag}`,
  dev: `v${n}`,
  ip: `10.216.0.${i + 1}`,
}));

async function sh(args: string[]): Promise<string> {
  const r = await runCommand(args[0], args.slice(1), 60_000);
  if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function setUp(): Promise<void> {
  await sh(["ip", "netns", "add", HUB]);
  await sh(["ip", "-n", HUB, "link", "add", "br0", "type", "bridge"]);
  await sh(["ip", "-n", HUB, "link", "set", "br0", "up"]);
  for (const h of HOSTS) {
    await sh(["ip", "netns", "add", h.ns]);
    await sh([
      "ip",
      "link",
      "add",
      h.dev,
      "netns",
      h.ns,
      "type",
      "veth",
      "peer",
      `h${h.dev}`,
      "netns",
      HUB,
    ]);
    await sh(["ip", "-n", HUB, "link", "set", `h${h.dev}`, "master", "br0", "up"]);
    await sh(["ip", "-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", h.dev]);
    await sh(["ip", "-n", h.ns, "link", "set", h.dev, "up"]);
    await sh(["ip", "-n", h.ns, "link", "set", "lo", "up"]);
  }
}

async function tearDown(): Promise<void> {
  for (const ns of [...HOSTS.map((h) => h.ns), HUB]) {
    const r = await runCommand("ip", ["netns", "pids", ns]);
    for (const pid of r.stdout.split("\n").filter((p) => p.trim() !== "")) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    await runCommand("ip", ["netns", "del", ns]);
  }
}

/** Offsets and delays of measurements.log lines from `address`, after `skip` seconds. */
function measurements(
  text: string,
  address: string,
  skip: number,
): { offset: number; delay: number }[] {
  const lines = text.split("\n").filter((l) => /^\d{4}-/.test(l));
  const rows = lines.map((l) => l.trim().split(/\s+/)).filter((f) => f[2] === address);
  if (rows.length === 0) return [];
  const t0 = Date.parse(`${rows[0][0]}T${rows[0][1]}Z`);
  return rows
    .filter((f) => Date.parse(`${f[0]}T${f[1]}Z`) - t0 >= skip * 1000)
    .map((f) => ({ offset: Number(f[11]), delay: Number(f[12]) }));
}

function summary(name: string, rows: { offset: number; delay: number }[]): string {
  const o = rows.map((r) => r.offset).sort((a, b) => a - b);
  const d = rows.map((r) => r.delay).sort((a, b) => a - b);
  const mean = o.reduce((s, x) => s + x, 0) / o.length;
  const rms = Math.sqrt(o.reduce((s, x) => s + x * x, 0) / o.length);
  const us = (x: number) => `${(x * 1e6).toFixed(1)} µs`;
  return `| ${name} | ${o.length} | ${us(o[o.length >> 1])} | ${us(mean)} | ${us(rms)} | ${
    us(d[d.length >> 1])
  } |`;
}

async function main(): Promise<void> {
  const chronyd = findChronyd();
  if (Deno.uid() !== 0 || chronyd === null) {
    console.error("needs root and chronyd");
    Deno.exit(2);
  }
  const dir = await Deno.makeTempDir({ prefix: "tempus-bcb-" });
  await tearDown();
  try {
    await setUp();
    const [A, B, C] = HOSTS;
    await Deno.writeTextFile(
      `${dir}/chronyd.conf`,
      [
        `pidfile ${dir}/chronyd.pid`,
        "cmdport 0",
        "local stratum 1",
        "allow",
        "broadcast 1 10.216.0.255",
      ]
        .join("\n") + "\n",
    );
    await sh([
      "ip",
      "netns",
      "exec",
      A.ns,
      chronyd,
      "-x",
      "-u",
      "root",
      "-f",
      `${dir}/chronyd.conf`,
    ]);
    for (
      const [h, name, line] of [[B, "b", "broadcastclient unauthenticated"], [
        C,
        "c",
        "server 10.216.0.1 minpoll 0 maxpoll 0",
      ]] as const
    ) {
      await Deno.mkdir(`${dir}/${name}`);
      await Deno.writeTextFile(
        `${dir}/${name}.conf`,
        [
          `pidfile ${dir}/${name}.pid`,
          "cmdport 0",
          "bindcmdaddress /",
          `logdir ${dir}/${name}`,
          "log measurements",
          line,
        ]
          .join("\n") + "\n",
      );
      await sh([
        "ip",
        "netns",
        "exec",
        h.ns,
        Deno.execPath(),
        ...tempusDaemonArgs(["-x", "-f", `${dir}/${name}.conf`]),
      ]);
    }
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const b = measurements(await Deno.readTextFile(`${dir}/b/measurements.log`), A.ip, 30)
      .filter((r) => r.delay < 0.004); // broadcasts after the volley (not broadcastdelay)
    const c = measurements(await Deno.readTextFile(`${dir}/c/measurements.log`), A.ip, 30);
    console.log(
      `${seconds} s, chronyd 4.3 broadcasting and serving every second, samples after 30 s\n`,
    );
    console.log(
      "| tempus as | samples | median offset | mean offset | RMS offset | median delay |",
    );
    console.log("| --- | --- | --- | --- | --- | --- |");
    console.log(summary("broadcastclient", b));
    console.log(summary("server (client mode)", c));
  } finally {
    await tearDown();
  }
}

if (import.meta.main) await main();
