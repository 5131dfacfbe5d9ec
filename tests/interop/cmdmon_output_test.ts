/**
 * `tempus <command>` (run in-process through `runMonitor`) prints byte for byte what the real chronyc prints, for the same
 * daemon (tempus's command server over a fake engine): text, -v legends, -c CSV, status
 * lines. The only allowed difference: tempus asks for the newer reply forms of ntpdata and
 * serverstats and prints their extra lines (as chronyc >= 4.4 does).
 */
import assert from "node:assert/strict";
import { runMonitor } from "../../src/cli/monitor.ts";
import { startCommandServer } from "../../src/cmdmon/server_io.ts";
import { silentLog } from "../../src/base/ports.ts";
import { FakeControl } from "../helpers/fake_control.ts";

function hasChronyc(): boolean {
  try {
    new Deno.Command("chronyc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return true;
  } catch {
    return false;
  }
}

/** Runs `tempus ARGS` in this process (main's dispatch), capturing its output. */
async function tempus(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const [command, ...rest] = args;
  const code = await runMonitor(command, rest, { write: (t) => (out += t) });
  return { code, out };
}

async function output(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout) };
}

const NEWER_LINES =
  /^(Total (kernel|HW) [TR]X|NTP (daemon|kernel|hardware) [TR]X timestamps).*\n/gm;

Deno.test({
  name: "tempus prints what chronyc prints, command by command",
  ignore: !hasChronyc(),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tempus-output-" });
    await Deno.chmod(dir, 0o700);
    const socket = `${dir}/tempus.sock`;
    const server = await startCommandServer(
      { udpHosts: ["127.0.0.1"], port: 0, socketPath: socket, allowUdp: () => false },
      new FakeControl(),
      silentLog,
    );
    const port = String(server.udpPorts.get("127.0.0.1"));
    try {
      const cases: string[][] = [
        ["tracking"],
        ["sources", "-v"],
        ["sourcestats", "-v"],
        ["selectdata", "-v"],
        ["activity"],
        ["ntpdata", "192.0.2.1"],
        ["ntpdata"],
        ["serverstats"],
        ["clients"],
        ["manual", "list"],
        ["rtcdata"],
        ["smoothing"],
        ["sourcename", "192.0.2.1"],
        ["accheck", "192.0.2.9"],
        ["cmdaccheck", "192.0.2.9"],
        ["makestep", "0.5", "3"],
        ["burst", "2/4", "192.0.2.0/24"],
        ["offline", "255.255.255.0/192.0.2.0"],
        ["manual", "delete", "2"],
        ["allow", "all", "10.1"],
        ["local", "stratum", "5", "orphan"],
        ["add", "server", "192.0.2.77", "iburst", "prefer"],
        ["delete", "192.0.2.1"],
        ["writertc"],
        ["doffset", "-0.1"],
        ["ntpdata", "192.0.2.99"],
        ["waitsync", "2", "0.01", "0", "0.1"],
        ["settime", "16:30"],
        ["manual", "on"],
        ["settime", "Nov 24, 2026 16:30:05"],
        ["settime", "not a time"],
        ["-c", "tracking"],
        ["-c", "sources"],
        ["-c", "sourcestats"],
        ["-c", "selectdata"],
        ["-c", "activity"],
        ["-c", "ntpdata", "192.0.2.1"],
        ["-c", "clients"],
      ];
      const compare = async (c: string[]) => {
        const csv = c[0] === "-c";
        const args = csv ? c.slice(1) : c;
        const flags = ["-n", ...(csv ? ["-c"] : [])];
        const [mine, theirs] = await Promise.all([
          tempus([...args, ...flags, "-h", socket]),
          output("chronyc", [...flags, "-h", socket, ...args]),
        ]);
        return { c, mine, theirs };
      };
      const results = [];
      for (const c of cases) results.push(await compare(c));
      for (const { c, mine, theirs } of results) {
        const label = c.join(" ");
        assert.ok(theirs.out.length > 0, label);
        let ours = mine.out.replace(NEWER_LINES, "");
        if (c[0] === "-c" && c[1] === "ntpdata") ours = ours.replace(/(,0){4}\n$/, "\n");
        assert.equal(ours, theirs.out, label);
        assert.equal(mine.code, theirs.code, `exit code of ${label}`);
      }
      // UDP: the same refusal.
      const [mine, theirs] = await Promise.all([
        tempus(["makestep", "-h", "127.0.0.1", "-p", port]),
        output("chronyc", ["-h", "127.0.0.1", "-p", port, "makestep"]),
      ]);
      assert.equal(mine.out, "501 Not authorised\n");
      assert.equal(mine.out, theirs.out);
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
