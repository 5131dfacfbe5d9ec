/**
 * `xdpserver` on a veth link (native XDP) beside the daemon's own path and chronyd: the served
 * offset `chronyd -Q` measures from another network namespace.
 *
 * `./deno task bench:xdpveth [--rounds N]` (root): a lab of network namespaces joined by a bridge
 * (tests/helpers/netns_lab.ts) holds three servers, each `local stratum 1` with `-x` on port
 * 123 of its own namespace (so each serves the host clock): `tempus daemon` with
 * `xdpserver eth0`, `tempus daemon` without it, and `chronyd`. A client namespace runs
 * `chronyd -Q` (measure only; 8 samples) against each in turn, N rounds, and the table gives
 * each server's median, smallest and largest offset over the rounds. All share one clock, so the
 * ideal is 0; chronyd -Q's own timestamps (its transmit time read before the send) bias every
 * figure alike. On loopback (generic XDP) the program runs after the backlog; on veth the driver
 * runs it in its NAPI poll, as a NIC driver with native XDP does.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { labPossible, makeLab } from "../helpers/netns_lab.ts";
import { haveBinary, REPO_ROOT, waitFor } from "../helpers/peers.ts";

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: { rounds: { type: "string", default: "5" } },
  });
  const rounds = Number(values.rounds);
  if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error("--rounds must be >= 1");
  if (!(await labPossible()) || !haveBinary("chronyd")) {
    throw new Error("needs root, ip netns and chronyd");
  }
  const lab = await makeLab("xdpv", ["xdp", "user", "chronyd", "client"], 79);
  try {
    const [xdpHost, userHost, chronydHost, client] = lab.hosts;
    const tempusArgs = (dir: string, extra: string[]) => [
      "run",
      "-A",
      "--unstable-net",
      "--quiet",
      `${REPO_ROOT}mod.ts`,
      "daemon",
      "-x",
      "-d",
      "local stratum 1",
      "allow all",
      "cmdport 0",
      `pidfile ${dir}/tempus.pid`,
      `bindcmdaddress ${dir}/tempus.sock`,
      ...extra,
    ];
    const dirs = await Promise.all([0, 1, 2].map(() => Deno.makeTempDir({ prefix: "xdpv-" })));
    const xdp = xdpHost.start(Deno.execPath(), tempusArgs(dirs[0], ["xdpserver eth0"]));
    userHost.start(Deno.execPath(), tempusArgs(dirs[1], []));
    const conf = `${dirs[2]}/chronyd.conf`;
    await Deno.writeTextFile(
      conf,
      `local stratum 1\nallow all\ncmdport 0\npidfile ${dirs[2]}/chronyd.pid\n`,
    );
    chronydHost.start("chronyd", ["-x", "-d", "-u", "root", "-f", conf]);
    await waitFor(() => /answered in the kernel on eth0/.test(xdp.output()), 15_000, "xdpserver");
    const servers = [
      { name: "tempus xdpserver eth0", address: xdpHost.address, offsets: [] as number[] },
      { name: "tempus daemon", address: userHost.address, offsets: [] as number[] },
      { name: "chronyd 4.3", address: chronydHost.address, offsets: [] as number[] },
    ];
    await new Promise((r) => setTimeout(r, 2000));
    for (let round = 0; round < rounds; round++) {
      for (const s of servers) {
        const out = await client.run("chronyd", [
          "-Q",
          "-u",
          "root",
          "-t",
          "20",
          `pidfile ${dirs[2]}/q.pid`,
          "cmdport 0",
          `server ${s.address} iburst maxsamples 8`,
        ], 25_000);
        const m = out.match(/System clock wrong by ([-+0-9.eE]+) seconds/);
        if (m === null) throw new Error(`chronyd -Q against ${s.name}:\n${out}`);
        s.offsets.push(Number(m[1]) * 1e6);
      }
    }
    console.log(
      `${new Date().toISOString().slice(0, 16)}Z, load average ` +
        `${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")}; chronyd -Q (8 samples) from a ` +
        `client namespace over a bridge, ${rounds} rounds, µs (+ = server ahead)`,
    );
    console.log("\nserver                | median | smallest | largest | every round");
    console.log("----------------------|-------:|---------:|--------:|------------");
    for (const s of servers) {
      const sorted = [...s.offsets].sort((a, b) => a - b);
      const f = (x: number) => x.toFixed(1).padStart(6);
      console.log(
        `${s.name.padEnd(21)} | ${f(sorted[sorted.length >> 1])} | ${f(sorted[0]).padStart(8)} | ` +
          `${f(sorted[sorted.length - 1]).padStart(7)} | ${
            s.offsets.map((x) => x.toFixed(0)).join(" ")
          }`,
      );
    }
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  } finally {
    await lab.close();
  }
}

if (import.meta.main) await main();
