/**
 * `tempus tracking | sources | sourcestats | activity` against a real `chronyd -x` (synced
 * to a second `chronyd -x` serving `local stratum 1` on loopback) print what the real
 * `chronyc` prints in the same moment. The client chronyd is put offline once synchronised
 * so its statistics stay still while both clients read them.
 */
import assert from "node:assert/strict";
import { runMonitor } from "../../src/cli/monitor.ts";

function has(binary: string): boolean {
  try {
    new Deno.Command(binary, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}

const ignore = !has("chronyd") || !has("chronyc");

function freePort(): number {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  conn.close();
  return port;
}

async function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

/** `tempus ARGS`, run in this process through the CLI's monitor entry. */
async function tempus(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const [command, ...rest] = args;
  const code = await runMonitor(command, rest, { write: (t) => (out += t) });
  return { code, out };
}

function fields(out: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const l of out.split("\n")) {
    const at = l.indexOf(" : ");
    if (at > 0) map.set(l.slice(0, at).trim(), l.slice(at + 3).trim());
  }
  return map;
}

function seconds(value: string | undefined): number {
  const m = /^([0-9.]+) seconds (slow|fast)/.exec(value ?? "");
  assert.ok(m, `seconds in '${value}'`);
  return Number(m[1]) * (m[2] === "slow" ? 1 : -1);
}

Deno.test({
  name: "tempus monitoring commands print what chronyc prints from a real chronyd -x",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tempus-chronyd-" });
    await Deno.chmod(dir, 0o700);
    const ntpPort = freePort();
    const cmdPort = freePort();
    const socket = `${dir}/chronyd.sock`;
    await Deno.writeTextFile(
      `${dir}/server.conf`,
      [
        "local stratum 1",
        "allow 127.0.0.1",
        `port ${ntpPort}`,
        "bindaddress 127.0.0.1",
        "cmdport 0",
        "bindcmdaddress /",
        `pidfile ${dir}/server.pid`,
      ].join("\n") + "\n",
    );
    await Deno.writeTextFile(
      `${dir}/client.conf`,
      [
        `server 127.0.0.1 port ${ntpPort} iburst minpoll -4 maxpoll -4`,
        "port 0",
        `cmdport ${cmdPort}`,
        "bindcmdaddress 127.0.0.1",
        `bindcmdaddress ${socket}`,
        `pidfile ${dir}/client.pid`,
      ].join("\n") + "\n",
    );
    const spawn = (conf: string) =>
      new Deno.Command("chronyd", {
        args: ["-x", "-u", "root", "-d", "-f", conf],
        stdout: "null",
        stderr: "null",
      }).spawn();
    const server = spawn(`${dir}/server.conf`);
    const client = spawn(`${dir}/client.conf`);
    try {
      const udp = ["-n", "-h", "127.0.0.1", "-p", String(cmdPort)];
      let synced = false;
      for (let i = 0; i < 40 && !synced; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const t = await run("chronyc", [...udp, "tracking"]);
        synced = t.out.includes("Reference ID    : 7F000001 (127.0.0.1)");
      }
      assert.ok(synced, "chronyd synchronised to its loopback server");
      await new Promise((r) => setTimeout(r, 1000)); // a few more samples
      // The Unix socket may lag the UDP one by a moment: retry like an operator would.
      let offline = "";
      for (let i = 0; i < 20 && offline !== "200 OK"; i++) {
        offline = (await run("chronyc", ["-h", socket, "offline"])).out.trim();
        if (offline !== "200 OK") await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(offline, "200 OK");
      await new Promise((r) => setTimeout(r, 200));

      const [ours, theirs] = await Promise.all([
        tempus(["tracking", ...udp]),
        run("chronyc", [...udp, "tracking"]),
      ]);
      assert.equal(ours.code, 0, ours.out);
      const a = fields(ours.out);
      const b = fields(theirs.out);
      assert.equal(a.get("Reference ID"), "7F000001 (127.0.0.1)");
      for (
        const key of [
          "Reference ID",
          "Stratum",
          "Ref time (UTC)",
          "Last offset",
          "RMS offset",
          "Frequency",
          "Residual freq",
          "Skew",
          "Root delay",
          "Update interval",
          "Leap status",
        ]
      ) {
        assert.equal(a.get(key), b.get(key), key);
      }
      assert.ok(Math.abs(seconds(a.get("System time")) - seconds(b.get("System time"))) < 1e-4);
      const disp = (m: Map<string, string>) => Number(m.get("Root dispersion")?.split(" ")[0]);
      assert.ok(Math.abs(disp(a) - disp(b)) < 1e-3, "root dispersion grows slowly");

      for (const command of [["sources", "-v"], ["sourcestats", "-v"], ["activity"]]) {
        const [mine, real] = await Promise.all([
          tempus([...command, ...udp]),
          run("chronyc", [...udp, ...command]),
        ]);
        assert.equal(mine.code, 0, mine.out);
        const norm = (s: string) =>
          // LastRx may tick between the two reads, and sourcestats' offset is predicted
          // for "now" (compared numerically below).
          s.replace(/^(\^. 127\.0\.0\.1\s+\d+\s+-?\d+\s+\d+)\s+\d+/m, "$1 N")
            .replace(/^(127\.0\.0\.1(?:\s+\S+){5})\s+\S+/m, "$1 OFFSET");
        assert.equal(norm(mine.out), norm(real.out), command.join(" "));
        if (command[0] === "sourcestats") {
          const offset = (s: string) => {
            const m = /^127\.0\.0\.1(?:\s+\S+){5}\s+([+-][0-9.]+)(ns|us|ms|s)/m.exec(s);
            assert.ok(m, s);
            return Number(m[1]) * { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1 }[m[2]]!;
          };
          assert.ok(Math.abs(offset(mine.out) - offset(real.out)) < 50e-6);
        }
      }
      const sources = await tempus(["sources", ...udp]);
      assert.match(sources.out, /^\^. 127\.0\.0\.1 +1 +-4 /m);

      // The Unix socket gives full access to tempus too.
      const viaSocket = await tempus(["tracking", "-n", "-h", socket]);
      assert.equal(fields(viaSocket.out).get("Reference ID"), "7F000001 (127.0.0.1)");
      const online = await tempus(["online", "-h", socket]);
      assert.equal(online.out.trim(), "200 OK");

      // Nobody there: 506 and a non-zero exit, like chronyc.
      const dead = await tempus([
        "tracking",
        "-h",
        "127.0.0.1",
        "-p",
        String(freePort()),
        "--timeout",
        "100",
        "--retries",
        "1",
      ]);
      assert.equal(dead.out.trim(), "506 Cannot talk to daemon");
      assert.equal(dead.code, 1);
    } finally {
      for (const child of [client, server]) {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        await child.status;
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
