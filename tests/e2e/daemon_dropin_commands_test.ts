/**
 * chronyc's maintenance commands against `tempus daemon`, side by side with chronyd 4.3 on
 * the same machine (issue 13, items 4, 6, 8, 9 and 10): each check runs the same
 * configuration and the same real chronyc commands against both daemons and asserts the
 * same answers, log lines and files.
 *
 * - `reload sources`: deleted, changed and new *.sources files remove, re-add and add
 *   sources; `rekey` takes a changed key; `dump` writes the dump files in chrony's format
 *   and `-r` loads them (across the two daemons too);
 * - `add server X` for an existing X answers 511, a duplicate `server` line logs "Could not
 *   add source";
 * - `makestep` under -x answers 500 and logs "Could not step system clock";
 * - `ntpdata` shows the local address used; a `local` reference serves root dispersion 0;
 * - `selectdata` after `reset sources` shows `s`; `authdata` shows `-` in Last and the key
 *   of a keyed source; `serverstats` counts the commands of the Unix socket.
 *
 * Both daemons always run with -x: the host clock is never touched.
 */
import assert from "node:assert/strict";
import { findChronyd, freeUdpPort, runCommand, waitFor } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const CHRONYD = findChronyd();
const HAVE_CHRONYC = (await runCommand("chronyc", ["--version"]).catch(() => null))?.code === 0;
const DAEMONS = ["chronyd", "tempus"] as const;
type Daemon = (typeof DAEMONS)[number];

function ignored(daemon: Daemon): boolean {
  return !HAVE_CHRONYC || (daemon === "chronyd" && CHRONYD === null);
}

function command(daemon: Daemon, args: string[]): [string, string[]] {
  return daemon === "chronyd"
    ? [CHRONYD ?? "chronyd", ["-x", "-u", "root", ...args]]
    : [Deno.execPath(), tempusDaemonArgs(["-x", ...args])];
}

/** A daemon started in the background with its own directory, socket and log. */
class Running {
  constructor(readonly daemon: Daemon, readonly dir: string) {}

  get log(): string {
    try {
      return Deno.readTextFileSync(`${this.dir}/log`);
    } catch {
      return "";
    }
  }

  async chronyc(...words: string[]): Promise<string> {
    const r = await runCommand("chronyc", ["-h", `${this.dir}/d.sock`, "-n", ...words]);
    return (r.stdout + r.stderr).trim();
  }

  async stop(): Promise<void> {
    const pid = readPid(`${this.dir}/d.pid`);
    if (pid === null) return;
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    await waitFor(() => Promise.resolve(!alive(pid)), 15_000, `${this.daemon} to exit`);
  }
}

function readPid(path: string): number | null {
  try {
    const pid = Number.parseInt(Deno.readTextFileSync(path).trim(), 10);
    return Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** The common part of every configuration: pidfile, Unix socket only, driftfile. */
function baseConf(dir: string, port: number, extra: string[]): string {
  return [
    `pidfile ${dir}/d.pid`,
    "cmdport 0",
    `bindcmdaddress ${dir}/d.sock`,
    `port ${port}`,
    `driftfile ${dir}/drift`,
    ...extra,
  ].join("\n") + "\n";
}

async function start(
  daemon: Daemon,
  dir: string,
  conf: string,
  args: string[] = [],
): Promise<Running> {
  await Deno.writeTextFile(`${dir}/c.conf`, conf);
  await Deno.remove(`${dir}/log`).catch(() => {});
  const [cmd, argv] = command(daemon, [...args, "-f", `${dir}/c.conf`, "-l", `${dir}/log`]);
  const r = await runCommand(cmd, argv, 60_000);
  assert.equal(r.code, 0, `${daemon}: ${r.stderr}`);
  return new Running(daemon, dir);
}

/** Runs `fn` with a fresh 0700 directory (chronyd refuses a socket others can reach). */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-dropin2-" });
  try {
    await fn(dir);
  } finally {
    const pid = readPid(`${dir}/d.pid`);
    if (pid !== null && alive(pid)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Addresses in `chronyc -n sources` output, in order, with their Poll column. */
function sourceRows(out: string): { address: string; poll: number }[] {
  return out.split("\n").flatMap((l) => {
    const m = /^..\s(\S+)\s+\d+\s+(-?\d+)\s/.exec(l);
    return m === null ? [] : [{ address: m[1], poll: Number(m[2]) }];
  });
}

const OPTS = { sanitizeResources: false, sanitizeOps: false };

for (const daemon of DAEMONS) {
  Deno.test({
    name: `${daemon}: reload sources follows deleted, changed and new *.sources files`,
    ignore: ignored(daemon),
    ...OPTS,
    fn: () =>
      withDir(async (dir) => {
        await Deno.mkdir(`${dir}/src.d`);
        const write = (name: string, text: string) =>
          Deno.writeTextFile(`${dir}/src.d/${name}`, text);
        await write("1.sources", "server 127.123.5.1\n");
        await write("2.sources", "server 127.123.5.2\n");
        await write("3.sources", "server 127.123.5.3\n");
        const d = await start(
          daemon,
          dir,
          baseConf(dir, 0, ["server 127.123.1.1", `sourcedir ${dir}/src.d`]),
        );
        try {
          const initial = ["127.123.1.1", "127.123.5.1", "127.123.5.2", "127.123.5.3"];
          await waitFor(
            async () => sourceRows(await d.chronyc("sources")).length === initial.length,
            10_000,
            "the configured sources",
          );
          assert.deepEqual(sourceRows(await d.chronyc("sources")).map((r) => r.address), initial);
          await Deno.remove(`${dir}/src.d/1.sources`);
          await write("2.sources", "server 127.123.5.2 minpoll 7\n");
          await write("3.sources", "\n");
          await write("4.sources", "server 127.123.5.4\n");
          assert.equal(await d.chronyc("reload", "sources"), "200 OK");
          const rows = sourceRows(await d.chronyc("sources"));
          assert.deepEqual(
            rows.map((r) => r.address),
            ["127.123.1.1", "127.123.5.2", "127.123.5.4"],
          );
          assert.equal(rows[1].poll, 7, "the changed line's source has its new minpoll");
        } finally {
          await d.stop();
        }
      }),
  });

  Deno.test({
    name: `${daemon}: add server for an existing source answers 511; a duplicate server ` +
      "line logs Could not add source",
    ignore: ignored(daemon),
    ...OPTS,
    fn: () =>
      withDir(async (dir) => {
        const d = await start(
          daemon,
          dir,
          baseConf(dir, 0, ["server 127.123.1.1", "server 127.123.1.1 minpoll 8"]),
        );
        try {
          // chronyd adds its sources just after the parent returned: wait for the line.
          await waitFor(
            () => Promise.resolve(/Could not add source 127\.123\.1\.1/.test(d.log)),
            10_000,
            "Could not add source in the log",
          );
          assert.equal(
            await d.chronyc("add", "server", "127.123.1.1"),
            "511 Source already present",
          );
          assert.equal(await d.chronyc("add", "server", "127.123.1.2"), "200 OK");
          await waitFor(
            async () => sourceRows(await d.chronyc("sources")).length === 2,
            10_000,
            "the added source",
          );
          assert.equal(
            await d.chronyc("add", "server", "127.123.1.2"),
            "511 Source already present",
          );
          assert.deepEqual(
            sourceRows(await d.chronyc("sources")).map((r) => r.address),
            ["127.123.1.1", "127.123.1.2"],
          );
        } finally {
          await d.stop();
        }
      }),
  });

  Deno.test({
    name: `${daemon} -x: makestep answers 500 Failure and logs Could not step system clock`,
    ignore: ignored(daemon),
    ...OPTS,
    fn: () =>
      withDir(async (dir) => {
        const d = await start(daemon, dir, baseConf(dir, 0, []));
        try {
          assert.equal(await d.chronyc("makestep"), "500 Failure");
          assert.match(d.log, /Could not step system clock/);
          assert.doesNotMatch(d.log, /System clock was stepped/);
        } finally {
          await d.stop();
        }
      }),
  });

  Deno.test({
    name: `${daemon}: ntpdata shows the local address used; a local reference serves root ` +
      "dispersion 0; authdata shows the key and '-'; selectdata 's' after reset sources; " +
      "serverstats counts Unix-socket commands",
    ignore: ignored(daemon),
    ...OPTS,
    fn: () =>
      withDir(async (dir) => {
        const port = freeUdpPort();
        await Deno.writeTextFile(
          `${dir}/keys`,
          "5 SHA256 HEX:0102030405060708090A0B0C0D0E0F10111213141516171819\n",
        );
        const d = await start(
          daemon,
          dir,
          baseConf(dir, port, [
            "bindaddress 127.0.0.1",
            "allow 127.0.0.1",
            "local stratum 3",
            `keyfile ${dir}/keys`,
            `server 127.0.0.1 port ${port} minpoll -6 maxpoll -6 key 5`,
            `server 127.0.0.2 port ${port}`,
          ]),
        );
        try {
          await waitFor(
            async () => /Total valid RX\s+:\s+[1-9]/.test(await d.chronyc("ntpdata", "127.0.0.1")),
            20_000,
            "a valid reply",
          );
          const nd = await d.chronyc("ntpdata", "127.0.0.1");
          assert.match(nd, /^Local address\s+: 127\.0\.0\.1 \(7F000001\)$/m, nd);
          assert.match(nd, /^Root dispersion : 0\.000000 seconds$/m, nd);
          assert.match(nd, /^Reference ID\s+: 7F7F0101 \(\)$/m, nd);
          const auth = (await d.chronyc("authdata")).split("\n").slice(2);
          assert.match(auth[0], /^127\.0\.0\.1 +SK +5 +3 +200 +- +0 +0 +0 +0$/, auth[0]);
          assert.match(auth[1], /^127\.0\.0\.2 +- +0 +0 +0 +- +0 +0 +0 +0$/, auth[1]);
          for (const c of [["minpoll", "127.0.0.1", "10"], ["maxpoll", "127.0.0.1", "12"]]) {
            assert.equal(await d.chronyc(...c), "200 OK");
          }
          assert.equal(await d.chronyc("reset", "sources"), "200 OK");
          await new Promise((r) => setTimeout(r, 1500));
          const sel = (await d.chronyc("selectdata")).split("\n").slice(2);
          assert.match(sel[0], /^s 127\.0\.0\.1 +Y /, sel.join("\n"));
          assert.match(sel[1], /^s 127\.0\.0\.2 +N /, sel.join("\n"));
          const before = Number(
            /Command packets received\s+:\s+(\d+)/.exec(await d.chronyc("serverstats"))?.[1],
          );
          for (let i = 0; i < 3; i++) await d.chronyc("tracking");
          const after = Number(
            /Command packets received\s+:\s+(\d+)/.exec(await d.chronyc("serverstats"))?.[1],
          );
          assert.ok(before >= 8, `Unix-socket commands counted: ${before}`);
          assert.equal(after, before + 4, "three tracking and one serverstats request");
        } finally {
          await d.stop();
        }
      }),
  });
}

for (const daemon of DAEMONS) {
  Deno.test({
    name: `${daemon}: onoffline sets a routable offline source online`,
    ignore: ignored(daemon),
    ...OPTS,
    fn: () =>
      withDir(async (dir) => {
        const d = await start(
          daemon,
          dir,
          baseConf(dir, 0, ["server 127.123.1.1 offline", "server 127.123.1.2"]),
        );
        try {
          await waitFor(
            async () => /1 sources offline/.test(await d.chronyc("activity")),
            10_000,
            "one source offline",
          );
          assert.equal(await d.chronyc("onoffline"), "200 OK");
          const activity = await d.chronyc("activity");
          assert.match(activity, /^2 sources online\n0 sources offline$/m, activity);
        } finally {
          await d.stop();
        }
      }),
  });
}

/** Waits until `source` has at least `n` samples in chronyc sourcestats. */
async function waitSamples(d: Running, source: string, n: number): Promise<void> {
  await waitFor(
    async () => {
      const line = (await d.chronyc("sourcestats")).split("\n").find((l) =>
        l.startsWith(`${source} `)
      );
      return Number(line?.trim().split(/\s+/)[1] ?? 0) >= n;
    },
    30_000,
    `${n} samples of ${source}`,
  );
}

for (
  const [writer, reader] of [["chronyd", "tempus"], ["tempus", "chronyd"], [
    "tempus",
    "tempus",
  ]] as const
) {
  Deno.test({
    name: `${writer} dump writes chrony's dump file; ${reader} -r loads it and removes it`,
    ignore: ignored(writer) || ignored(reader),
    ...OPTS,
    fn: () =>
      withDir(async (dir) => {
        // The upstream: a tempus local reference (another process, its own directory).
        const upstreamDir = await Deno.makeTempDir({ prefix: "tempus-dropin2-up-" });
        const port = freeUdpPort();
        const up = await start(
          "tempus",
          upstreamDir,
          baseConf(upstreamDir, port, ["bindaddress 127.0.0.1", "allow 127.0.0.1", "local"]),
        );
        try {
          const conf = baseConf(dir, 0, [
            `server 127.0.0.1 port ${port} minpoll -6 maxpoll -6`,
            `dumpdir ${dir}/dump`,
          ]);
          await Deno.mkdir(`${dir}/dump`);
          const w = await start(writer, dir, conf);
          try {
            await waitSamples(w, "127.0.0.1", 4);
            assert.equal(await w.chronyc("dump"), "200 OK");
          } finally {
            await w.stop();
          }
          const text = await Deno.readTextFile(`${dir}/dump/127.0.0.1.dat`);
          const lines = text.split("\n");
          assert.equal(lines[0], "SRC0");
          assert.equal(lines[1], "127.0.0.1");
          assert.match(lines[2], /^0 [0-7]+ \d \d+ 0$/, lines[2]);
          assert.match(lines[3], /^\d+ -?\d+$/);
          assert.match(lines[4], /^\d+\.\d{9}( -?\d\.\d{6}e[+-]\d\d){6}$/);
          const n = Number(lines[3].split(" ")[0]);
          const r = await start(reader, dir, conf.replace("minpoll -6 maxpoll -6", "minpoll 10"), [
            "-r",
          ]);
          try {
            await waitFor(
              () => Promise.resolve(/Loaded dump file for 127\.0\.0\.1/.test(r.log)),
              20_000,
              `${reader} to load the dump file`,
            );
            assert.doesNotMatch(r.log, /Could not load dump file/);
            const stats = (await r.chronyc("sourcestats")).split("\n").find((l) =>
              l.startsWith("127.0.0.1 ")
            );
            assert.ok(Number(stats?.trim().split(/\s+/)[1]) >= Math.min(n, 3), stats);
            await waitFor(
              async () => {
                try {
                  await Deno.stat(`${dir}/dump/127.0.0.1.dat`);
                  return false;
                } catch {
                  return true;
                }
              },
              10_000,
              "the dump file to be removed after loading",
            );
          } finally {
            await r.stop();
          }
        } finally {
          await up.stop();
          await Deno.remove(upstreamDir, { recursive: true }).catch(() => {});
        }
      }),
  });
}

Deno.test({
  name: "tempus: rekey takes a changed keyfile (a keyed source follows the new key)",
  ignore: !HAVE_CHRONYC,
  ...OPTS,
  fn: () =>
    withDir(async (dir) => {
      const port = freeUdpPort();
      await Deno.writeTextFile(`${dir}/keys`, "7 SHA1 HEX:00112233445566778899AABBCCDDEEFF0011\n");
      const d = await start(
        "tempus",
        dir,
        baseConf(dir, port, [
          "bindaddress 127.0.0.1",
          "allow 127.0.0.1",
          "local stratum 3",
          `keyfile ${dir}/keys`,
          `server 127.0.0.1 port ${port} minpoll -6 maxpoll -6 key 7`,
        ]),
      );
      try {
        assert.match((await d.chronyc("authdata")).split("\n")[2], / SK +7 +2 +144 /);
        await Deno.writeTextFile(
          `${dir}/keys`,
          "7 AES128 HEX:00112233445566778899AABBCCDDEEFF\n",
        );
        assert.equal(await d.chronyc("rekey"), "200 OK");
        assert.match((await d.chronyc("authdata")).split("\n")[2], / SK +7 +13 +128 /);
        // Requests and replies now carry AES-CMAC with the new key, and still verify.
        const valid = async () =>
          Number(/Total valid RX\s+:\s+(\d+)/.exec(await d.chronyc("ntpdata", "127.0.0.1"))?.[1]);
        const before = await valid();
        await waitFor(
          async () => (await valid()) > before + 2,
          20_000,
          "valid replies after rekey",
        );
        assert.match(await d.chronyc("ntpdata", "127.0.0.1"), /^Authenticated\s+: Yes$/m);
        // A keyfile without the key a source uses is refused, the keys stay.
        await Deno.writeTextFile(`${dir}/keys`, "8 MD5 HEX:00112233445566778899AABBCCDDEEFF\n");
        assert.equal(await d.chronyc("rekey"), "500 Failure");
        assert.match((await d.chronyc("authdata")).split("\n")[2], / SK +7 +13 +128 /);
        assert.match(d.log, /uses key 7, which keyfile .* does not define/);
      } finally {
        await d.stop();
      }
    }),
});

Deno.test({
  name: "tempus: reload sources with a bad *.sources line fails and keeps the sources",
  ignore: !HAVE_CHRONYC,
  ...OPTS,
  fn: () =>
    withDir(async (dir) => {
      await Deno.mkdir(`${dir}/src.d`);
      await Deno.writeTextFile(`${dir}/src.d/1.sources`, "server 127.123.5.1\n");
      const d = await start("tempus", dir, baseConf(dir, 0, [`sourcedir ${dir}/src.d`]));
      try {
        await Deno.writeTextFile(`${dir}/src.d/1.sources`, "server 127.123.5.9 minpoll x\n");
        assert.equal(await d.chronyc("reload", "sources"), "500 Failure");
        assert.deepEqual(
          sourceRows(await d.chronyc("sources")).map((r) => r.address),
          ["127.123.5.1"],
        );
        assert.match(d.log, /1\.sources:1/);
      } finally {
        await d.stop();
      }
    }),
});

Deno.test({
  name: "tempus in the background with -l FILE: configuration warnings go to the file, " +
    "nothing to stderr or stdout (item 11)",
  ...OPTS,
  fn: () =>
    withDir(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/c.conf`,
        baseConf(dir, 0, ["dumponexit", "allow 127.0.0.1", "log measurements"]),
      );
      const [cmd, argv] = command("tempus", ["-f", `${dir}/c.conf`, "-l", `${dir}/log`]);
      const r = await runCommand(cmd, argv, 60_000);
      const d = new Running("tempus", dir);
      try {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "");
        assert.equal(r.stdout, "");
        assert.match(d.log, /WARNING .*dumponexit/);
        assert.match(d.log, /WARNING .*allow has no effect with port 0/);
        assert.match(d.log, /WARNING .*log has no effect without logdir/);
      } finally {
        await d.stop();
      }
    }),
});
