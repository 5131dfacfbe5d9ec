/**
 * Local attackers (issue 20): an unprivileged user (`nobody`, through `setpriv`) runs the
 * tempus client against a daemon started as root, with the default paths (in a private mount
 * namespace whose /run is a fresh tmpfs, so nothing on the host is touched) and with fresh
 * directories given by `bindcmdaddress`/`pidfile`. No privileged command may be accepted;
 * a socket directory that others can reach is refused (the socket disabled, as chronyd does);
 * the `user` directive is applied, `-u` wins, and an unknown user stops start-up. Every daemon
 * runs with -x: the host clock is never touched.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  findBinary,
  REPO_ROOT,
  runCommand,
  runTempus,
  startBackground,
  waitFor,
} from "../helpers/peers.ts";
import type { Background } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const NOBODY = 65534;
const ROOT = Deno.uid() === 0;
const TOOLS = ["unshare", "nsenter", "setpriv"].every((t) =>
  findBinary(t, ["/usr/bin", "/usr/sbin"]) !== null
);
const IGNORE = !ROOT || !TOOLS;

/** A DENO_DIR that `nobody` can write (deno caches its transpiled modules there). */
let nobodyDenoDir: string | null = null;
async function denoDirForNobody(): Promise<string> {
  if (nobodyDenoDir === null) {
    nobodyDenoDir = await Deno.makeTempDir({ prefix: "tempus-nobody-deno-" });
    await Deno.chmod(nobodyDenoDir, 0o777);
    const dir = nobodyDenoDir;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
  }
  return nobodyDenoDir;
}

const CLIENT = ["run", "-A", "--unstable-net", "--quiet", `${REPO_ROOT}mod.ts`];

/** Runs the tempus client: as root, or as nobody; inside the mount namespace of `nsPid`. */
async function client(
  who: "root" | "nobody",
  args: string[],
  nsPid: number | null = null,
): Promise<{ code: number; text: string }> {
  const prefix: string[] = [];
  if (nsPid !== null) prefix.push("nsenter", "-t", String(nsPid), "-m");
  if (who === "nobody") {
    const dir = await denoDirForNobody();
    prefix.push(
      "setpriv",
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "env",
      `HOME=${dir}`,
      `DENO_DIR=${dir}`,
    );
  }
  const argv = [...prefix, Deno.execPath(), ...CLIENT, ...args];
  const out = await runCommand(argv[0], argv.slice(1), 60_000, { cwd: "/" });
  return { code: out.code, text: out.stdout + out.stderr };
}

/** Starts `tempus daemon -x -d` with `directives`, optionally in a namespace with a fresh /run. */
function daemon(
  directives: string[],
  opts: { freshRun?: string; args?: string[] } = {},
): Background {
  const deno = tempusDaemonArgs(["-x", "-d", ...(opts.args ?? []), ...directives]);
  if (opts.freshRun === undefined) return startBackground(Deno.execPath(), deno);
  const script = `mount -t tmpfs -o mode=0755 tmpfs /run && ${opts.freshRun} exec "$@"`;
  return startBackground("unshare", [
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    "sh",
    Deno.execPath(),
    ...deno,
  ]);
}

async function statIn(nsPid: number | null, path: string): Promise<string | null> {
  const argv = nsPid === null ? [] : ["nsenter", "-t", String(nsPid), "-m"];
  argv.push("stat", "-c", "%a %u %g %F", path);
  const out = await runCommand(argv[0], argv.slice(1));
  return out.code === 0 ? out.stdout.trim() : null;
}

const DEFAULT_SOCKET = "/var/run/tempus/tempus.sock";

Deno.test({
  name: "default paths on a fresh /run: /run/tempus is created 0750 and nobody cannot command",
  ignore: IGNORE,
  async fn() {
    const d = daemon(["port 0", "cmdport 0", "local stratum 3"], { freshRun: "" });
    try {
      const pid = d.child.pid;
      await waitFor(async () => (await statIn(pid, DEFAULT_SOCKET)) !== null, 30_000, "the socket");
      const dir = await statIn(pid, "/run/tempus");
      assert.ok(dir !== null);
      const [mode, uid] = dir.split(" ");
      assert.equal(Number.parseInt(mode, 8) & 0o007, 0, `run dir ${dir}`);
      assert.equal(uid, "0");
      for (
        const attack of [
          ["manual", "on"],
          ["settime", new Date(Date.now() + 3_600_000).toISOString()],
          ["local", "stratum", "9"],
          [
            "shutdown",
          ],
        ]
      ) {
        const r = await client("nobody", [...attack, "-h", DEFAULT_SOCKET], pid);
        assert.notEqual(r.code, 0, `${attack.join(" ")} as nobody: ${r.text}`);
        assert.match(r.text, /506 Cannot talk to daemon/);
      }
      // The daemon is alive, still in automatic mode, and root can talk to it.
      const settime = await client("root", ["settime", "12:00", "-h", DEFAULT_SOCKET], pid);
      assert.match(settime.text, /505|not enabled/i, settime.text);
      const tracking = await client("root", ["tracking", "-h", DEFAULT_SOCKET], pid);
      assert.match(tracking.text, /Stratum\s+: 3/, tracking.text);
      assert.doesNotMatch(d.output(), /wrong by|adjustment started|exiting/);
    } finally {
      await d.stop();
    }
  },
});

Deno.test({
  name: "default paths with an existing /run/tempus 0755: the command socket is disabled",
  ignore: IGNORE,
  async fn() {
    const d = daemon(["port 0", "cmdport 0", "local stratum 3"], {
      freshRun: "mkdir -m 0755 /run/tempus &&",
    });
    try {
      const pid = d.child.pid;
      await waitFor(() => d.output().includes("Disabled command socket"), 30_000, "the refusal");
      assert.match(d.output(), /Wrong permissions on \/var\/run\/tempus \(0755/);
      assert.equal(await statIn(pid, DEFAULT_SOCKET), null);
      const r = await client("nobody", ["manual", "on", "-h", DEFAULT_SOCKET], pid);
      assert.match(r.text, /506 Cannot talk to daemon/);
    } finally {
      await d.stop();
    }
  },
});

Deno.test({
  name: "fresh directories from bindcmdaddress/pidfile: created private, nobody cannot command",
  ignore: IGNORE,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "tempus-local-" });
    await Deno.chmod(base, 0o755);
    const socket = `${base}/run/sub/tempus.sock`;
    const d = daemon([
      "port 0",
      "cmdport 0",
      "local stratum 3",
      `bindcmdaddress ${socket}`,
      `pidfile ${base}/pid/tempus.pid`,
    ]);
    try {
      await waitFor(async () => (await statIn(null, socket)) !== null, 30_000, "the socket");
      for (const dir of [`${base}/run/sub`, `${base}/pid`]) {
        const st = await statIn(null, dir);
        assert.ok(st !== null);
        assert.equal(Number.parseInt(st.split(" ")[0], 8) & 0o007, 0, `${dir}: ${st}`);
      }
      for (const attack of [["local", "stratum", "9"], ["shutdown"]]) {
        const r = await client("nobody", [...attack, "-h", socket]);
        assert.match(r.text, /506 Cannot talk to daemon/, r.text);
      }
      const tracking = await client("root", ["tracking", "-h", socket]);
      assert.match(tracking.text, /Stratum\s+: 3/, tracking.text);
      assert.doesNotMatch(d.output(), /exiting/);
    } finally {
      await d.stop();
      await Deno.remove(base, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a bindcmdaddress directory others can reach (0777) is refused, not bound",
  ignore: IGNORE,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "tempus-local-" });
    await Deno.chmod(base, 0o777);
    const socket = `${base}/tempus.sock`;
    const d = daemon([
      "port 0",
      "cmdport 0",
      "local stratum 3",
      `bindcmdaddress ${socket}`,
      `pidfile ${base}/tempus.pid`,
    ]);
    try {
      await waitFor(() => d.output().includes("Disabled command socket"), 30_000, "the refusal");
      assert.match(d.output(), /Wrong permissions on .* \(0777/);
      assert.equal(await statIn(null, socket), null);
      const r = await client("nobody", ["shutdown", "-h", socket]);
      assert.match(r.text, /506 Cannot talk to daemon/);
    } finally {
      await d.stop();
      await Deno.remove(base, { recursive: true }).catch(() => {});
    }
  },
});

async function uidOf(pid: number): Promise<string> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return status.match(/^Uid:\s+(\d+)/m)?.[1] ?? "?";
}

Deno.test({
  name: "user directive: applied (the daemon runs as nobody, which owns the socket directory)",
  ignore: IGNORE,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "tempus-local-" });
    await Deno.chmod(base, 0o755);
    const socket = `${base}/run/tempus.sock`;
    const d = daemon([
      "port 0",
      "cmdport 0",
      "local stratum 3",
      "user nobody",
      `bindcmdaddress ${socket}`,
      `pidfile ${base}/run/tempus.pid`,
    ]);
    try {
      await waitFor(() => d.output().includes("Running as nobody"), 30_000, "the switch");
      assert.equal(await uidOf(d.child.pid), String(NOBODY));
      const st = await statIn(null, `${base}/run`);
      assert.ok(st !== null);
      const [mode, uid, gid] = st.split(" ");
      assert.equal(Number.parseInt(mode, 8) & 0o007, 0, st);
      assert.equal(uid, String(NOBODY));
      assert.equal(gid, String(NOBODY));
      const tracking = await client("root", ["tracking", "-h", socket]);
      assert.match(tracking.text, /Stratum\s+: 3/, tracking.text);
    } finally {
      await d.stop();
      await Deno.remove(base, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "user nosuchuser: start-up and config check both refuse; -u wins over the directive",
  ignore: IGNORE,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "tempus-local-" });
    try {
      const conf = `${base}/tempus.conf`;
      await Deno.writeTextFile(conf, "local stratum 3\nuser nosuchuser\n");
      const check = await runTempus(["config", "check", conf]);
      assert.equal(check.code, 1, check.stdout + check.stderr);
      assert.match(check.stderr, /Could not get user\/group ID of nosuchuser/);
      const start = await runCommand(Deno.execPath(), tempusDaemonArgs(["-x", "-d", "-f", conf]));
      assert.equal(start.code, 1, start.stdout + start.stderr);
      assert.match(start.stderr, /Could not get user\/group ID of nosuchuser/);
      // -u takes precedence: the unknown directive user is not consulted.
      const d = daemon([
        "port 0",
        "cmdport 0",
        "local stratum 3",
        "user nosuchuser",
        `bindcmdaddress ${base}/run/tempus.sock`,
        `pidfile ${base}/run/tempus.pid`,
      ], { args: ["-u", "nobody"] });
      try {
        await waitFor(() => d.output().includes("Running as nobody"), 30_000, "the switch");
        assert.equal(await uidOf(d.child.pid), String(NOBODY));
      } finally {
        await d.stop();
      }
    } finally {
      await Deno.remove(base, { recursive: true }).catch(() => {});
    }
  },
});
