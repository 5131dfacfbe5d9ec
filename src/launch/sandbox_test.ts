/**
 * The permission sandbox, end to end: the flags come from the real pre-stage
 * (`./tempus permissions daemon ...`), the daemon started by `./tempus` runs with them (its
 * command line shows no -A), and a daemon running in-process under the same flags
 * (testdata/sandbox_probe.ts) cannot read or write files outside its configured paths,
 * open sockets it was not configured for, run programs or read other environment
 * variables. Never touches the clock (-x).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const DENO = Deno.execPath();

async function prestage(args: string[]): Promise<string[]> {
  const out = await new Deno.Command(`${ROOT}/tempus`, {
    args: ["permissions", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
}

interface Setup {
  dir: string;
  conf: string;
  secret: string;
  outside: string;
}

async function setup(extra: string[]): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-sandbox-" });
  await Deno.mkdir(`${dir}/state`);
  await Deno.mkdir(`${dir}/outside`);
  const secret = `${dir}/outside/secret`;
  await Deno.writeTextFile(secret, "not for the daemon\n");
  const conf = `${dir}/tempus.conf`;
  await Deno.writeTextFile(
    conf,
    [
      "server 127.0.0.1 port 9 minpoll 0 maxpoll 0",
      `driftfile ${dir}/state/drift`,
      `pidfile ${dir}/state/tempus.pid`,
      "port 0",
      ...extra,
      "",
    ].join("\n"),
  );
  return { dir, conf, secret, outside: `${dir}/outside` };
}

async function probe(s: Setup, flags: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(DENO, {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--unstable-net",
      ...flags,
      `${ROOT}/src/launch/testdata/sandbox_probe.ts`,
      s.secret,
      s.outside,
      `${s.dir}/state/drift`,
      "--",
      "daemon",
      "-x",
      "-d",
      "-f",
      s.conf,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("PROBE "));
  assert.ok(line, `no probe result:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(line.slice(6));
}

Deno.test("sandbox: the daemon's flags name its configured paths and never -A", async () => {
  const s = await setup(["cmdport 0", "bindcmdaddress /"]);
  try {
    const flags = await prestage(["daemon", "-n", "-x", "-f", s.conf]);
    assert.ok(!flags.includes("-A") && !flags.includes("--allow-all"), flags.join(" "));
    const read = flags.find((f) => f.startsWith("--allow-read="))!.split("=")[1].split(",");
    assert.ok(read.includes(s.conf), read.join(","));
    assert.ok(read.includes(`${s.dir}/state`), read.join(","));
    assert.ok(!read.some((p) => s.secret.startsWith(p) && p !== ""), read.join(","));
    assert.ok(!flags.includes("--allow-net"), "no Unix socket: net stays scoped");
    assert.ok(!flags.some((f) => f.startsWith("--allow-run")), flags.join(" "));
    assert.ok(flags.includes("--allow-env=JOURNAL_STREAM,NOTIFY_SOCKET"), flags.join(" "));
    // Going to the background (no -n) re-runs deno itself, and nothing else.
    const bg = await prestage(["daemon", "-x", "-f", s.conf]);
    const run = bg.filter((f) => f.startsWith("--allow-run"));
    assert.deepEqual(run, [`--allow-run=${Deno.execPath()}`], bg.join(" "));
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("sandbox: the running daemon cannot read, write, listen or run beyond its config", async () => {
  const s = await setup(["cmdport 0", "bindcmdaddress /"]);
  try {
    const r = await probe(s, await prestage(["daemon", "-x", "-f", s.conf]));
    assert.equal(r.daemonExited, null, "the daemon is running");
    assert.equal(r.readDriftDir, "ok", "its own state directory is readable");
    assert.equal(r.readSecret, "NotCapable");
    assert.equal(r.readEtcShadow, "NotCapable");
    assert.equal(r.writeOutside, "NotCapable");
    assert.equal(r.listOutside, "NotCapable");
    assert.equal(r.listenUdpAny, "NotCapable");
    assert.equal(r.listenUdpLoopback, "NotCapable");
    assert.equal(r.listenTcp, "NotCapable");
    assert.equal(r.connectTcp, "NotCapable");
    assert.equal(r.runProgram, "NotCapable");
    assert.equal(r.envHome, "NotCapable");
    assert.equal(r.envNotify, "ok");
    assert.equal(r.sysHostname, "NotCapable");
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("sandbox: with the Unix command socket, files stay confined (net is unscoped)", async () => {
  const s = await setup(["cmdport 0"]);
  await Deno.writeTextFile(s.conf, `bindcmdaddress ${s.dir}/state/tempus.sock\n`, {
    append: true,
  });
  try {
    const flags = await prestage(["daemon", "-x", "-f", s.conf]);
    assert.ok(flags.includes("--allow-net"), flags.join(" "));
    const r = await probe(s, flags);
    assert.equal(r.daemonExited, null);
    assert.equal(r.readSecret, "NotCapable");
    assert.equal(r.writeOutside, "NotCapable");
    assert.equal(r.runProgram, "NotCapable");
    assert.equal(r.envHome, "NotCapable");
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("sandbox: ./tempus starts the daemon with the pre-stage's flags, not -A", async () => {
  const s = await setup(["cmdport 0", "bindcmdaddress /"]);
  const child = new Deno.Command(`${ROOT}/tempus`, {
    args: ["daemon", "-x", "-d", "-f", s.conf],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const pidFile = `${s.dir}/state/tempus.pid`;
    let pid: number | null = null;
    for (let i = 0; i < 100 && pid === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        pid = Number(Deno.readTextFileSync(pidFile).trim());
      } catch {
        // not yet
      }
    }
    assert.ok(pid !== null, "the daemon wrote its pidfile");
    assert.equal(pid, child.pid, "the launcher exec'd deno: same process");
    const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    assert.ok(!argv.includes("-A") && !argv.includes("--allow-all"), argv.join(" "));
    const expected = await prestage(["daemon", "-x", "-d", "-f", s.conf]);
    for (const f of expected) assert.ok(argv.includes(f), `${f} missing from ${argv.join(" ")}`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel();
    await Deno.remove(s.dir, { recursive: true });
  }
});
