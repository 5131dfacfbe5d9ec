/**
 * `tempus daemon` at the process edge, side by side with chronyd 4.3 on the same machine
 * (issue 13, items 1, 2, 7 and 11): both go to the background and return once ready,
 * with a pidfile naming the live daemon; a start-up failure returns non-zero with the reason
 * on stderr and in the -l file; -l FILE keeps stderr quiet; -m locks memory and -P 1 runs
 * under SCHED_FIFO; -F 2 loads a seccomp filter; measurements.log has every synchronised
 * reply with its test bits; leapsectz right/UTC is read.
 * Both daemons always run with -x: the host clock is never touched.
 */
import assert from "node:assert/strict";
import { findChronyd, freeUdpPort, REPO_ROOT, runCommand, waitFor } from "../helpers/peers.ts";
import { tempusDaemonArgs } from "../helpers/tempus_daemon.ts";

const CHRONYD = findChronyd();

type Daemon = "chronyd" | "tempus";

function command(daemon: Daemon, args: string[]): [string, string[]] {
  return daemon === "chronyd"
    ? [CHRONYD ?? "chronyd", ["-x", "-u", "root", ...args]]
    : [Deno.execPath(), tempusDaemonArgs(["-x", ...args])];
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

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, tty_nr...]. */
function stat(pid: number): string[] {
  const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

async function stopPid(pid: number): Promise<void> {
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  await waitFor(() => Promise.resolve(!alive(pid)), 10_000, `pid ${pid} to exit`);
}

async function tempDir(): Promise<string> {
  // 0700: chronyd refuses a command socket in a directory others can reach.
  return await Deno.makeTempDir({ prefix: "tempus-dropin-" });
}

/** A configuration both daemons read: no NTP server, no UDP command port. */
function minimalConf(dir: string, extra: string[] = [], port = 0): string {
  return [
    `pidfile ${dir}/daemon.pid`,
    "cmdport 0",
    `bindcmdaddress ${dir}/daemon.sock`,
    `port ${port}`,
    `driftfile ${dir}/drift`,
    ...extra,
  ].join("\n") + "\n";
}

for (const daemon of ["chronyd", "tempus"] as const) {
  Deno.test({
    name: `${daemon} goes to the background, returns once ready, pidfile names the daemon`,
    ignore: daemon === "chronyd" && CHRONYD === null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await tempDir();
      try {
        await Deno.writeTextFile(`${dir}/c.conf`, minimalConf(dir, ["leapsectz right/UTC"]));
        const [cmd, args] = command(daemon, ["-f", `${dir}/c.conf`, "-l", `${dir}/log`]);
        const r = await runCommand(cmd, args, 60_000);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, "", "-l FILE: nothing on stderr");
        // Ready when the parent returned: the pidfile and the command socket are there.
        const pid = readPid(`${dir}/daemon.pid`);
        assert.ok(pid !== null && alive(pid), "pidfile names a live process");
        await Deno.stat(`${dir}/daemon.sock`);
        const [, , , session, tty] = stat(pid);
        assert.notEqual(Number(session), Number(stat(Deno.pid)[3]), "a session of its own");
        assert.equal(tty, "0", "no controlling terminal");
        const tracking = await runCommand("chronyc", ["-h", `${dir}/daemon.sock`, "tracking"]);
        assert.match(tracking.stdout, /^Reference ID/m);
        await stopPid(pid);
        const log = await Deno.readTextFile(`${dir}/log`);
        assert.match(log, / exiting/);
        assert.match(log, /Using right\/UTC timezone to obtain leap second data/);
        await assert.rejects(Deno.stat(`${dir}/daemon.pid`), "pidfile removed at exit");
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });

  Deno.test({
    name: `${daemon} in the background: a bad configuration returns non-zero, reason on ` +
      "stderr and in the -l file, nothing left running",
    ignore: daemon === "chronyd" && CHRONYD === null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await tempDir();
      try {
        await Deno.writeTextFile(`${dir}/c.conf`, minimalConf(dir, ["maxupdateskew x"]));
        const [cmd, args] = command(daemon, ["-f", `${dir}/c.conf`, "-l", `${dir}/log`]);
        const r = await runCommand(cmd, args, 60_000);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /c\.conf/, r.stderr);
        assert.match(await Deno.readTextFile(`${dir}/log`), /c\.conf/);
        assert.equal(readPid(`${dir}/daemon.pid`), null, "no pidfile");
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });

  Deno.test({
    name: `${daemon} -m -P 1: memory locked and SCHED_FIFO priority 1`,
    ignore: daemon === "chronyd" && CHRONYD === null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await tempDir();
      try {
        await Deno.writeTextFile(`${dir}/c.conf`, minimalConf(dir));
        const [cmd, args] = command(daemon, [
          "-m",
          "-P",
          "1",
          "-f",
          `${dir}/c.conf`,
          "-l",
          `${dir}/log`,
        ]);
        const r = await runCommand(cmd, args, 60_000);
        assert.equal(r.code, 0, r.stderr);
        const pid = readPid(`${dir}/daemon.pid`)!;
        try {
          const status = await Deno.readTextFile(`/proc/${pid}/status`);
          const locked = Number(status.match(/^VmLck:\s+(\d+) kB/m)?.[1]);
          // Without CAP_SYS_RESOURCE (containers), chronyd cannot raise RLIMIT_MEMLOCK and
          // then does not lock at all; tempus still locks with CAP_IPC_LOCK.
          const log = await Deno.readTextFile(`${dir}/log`);
          const chronydRefused = daemon === "chronyd" &&
            /setrlimit\(\) failed/.test(log);
          assert.ok(locked > 0 || chronydRefused, `VmLck ${locked} kB\n${log}`);
          // /proc/PID/stat field 41 is the policy (1 = SCHED_FIFO), 40 the rt priority.
          const fields = stat(pid);
          assert.equal(fields[40 - 3], "1", "rt_priority 1");
          assert.equal(fields[41 - 3], "1", "SCHED_FIFO");
        } finally {
          await stopPid(pid);
        }
        if (daemon === "tempus") {
          assert.doesNotMatch(await Deno.readTextFile(`${dir}/log`), /Could not|failed/);
        }
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });

  Deno.test({
    name: `${daemon} -F 2: a seccomp filter on the running daemon, which keeps answering`,
    ignore: daemon === "chronyd" && CHRONYD === null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await tempDir();
      try {
        await Deno.writeTextFile(`${dir}/c.conf`, minimalConf(dir));
        const [cmd, args] = command(daemon, ["-F", "2", "-f", `${dir}/c.conf`, "-l", `${dir}/log`]);
        const r = await runCommand(cmd, args, 60_000);
        assert.equal(r.code, 0, r.stderr);
        const pid = readPid(`${dir}/daemon.pid`)!;
        try {
          const status = await Deno.readTextFile(`/proc/${pid}/status`);
          assert.match(status, /^Seccomp:\s+2$/m, "filter mode");
          const tracking = await runCommand("chronyc", ["-h", `${dir}/daemon.sock`, "tracking"]);
          assert.match(tracking.stdout, /^Reference ID/m);
        } finally {
          await stopPid(pid);
        }
        assert.match(await Deno.readTextFile(`${dir}/log`), /Loaded seccomp filter \(level 2\)/);
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });

  for (const kind of ["measurements", "rawmeasurements"]) {
    Deno.test({
      name: `${daemon} log ${kind}: synchronised replies failing test D are logged with ` +
        "their test bits; tempcomp.log has the readings",
      ignore: daemon === "chronyd" && CHRONYD === null,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        const dir = await tempDir();
        const port = freeUdpPort();
        try {
          await Deno.writeTextFile(`${dir}/temp`, "26000\n");
          await Deno.writeTextFile(
            `${dir}/c.conf`,
            minimalConf(dir, [
              "bindaddress 127.0.0.1",
              "allow 127.0.0.1",
              "local",
              `server 127.0.0.1 port ${port} minpoll -6 maxpoll -6`,
              `logdir ${dir}`,
              `log ${kind} tempcomp`,
              `tempcomp ${dir}/temp 0.5 26000 0.5 0.001 0`,
            ], port),
          );
          const [cmd, args] = command(daemon, ["-f", `${dir}/c.conf`, "-l", `${dir}/log`]);
          const r = await runCommand(cmd, args, 60_000);
          assert.equal(r.code, 0, r.stderr);
          const pid = readPid(`${dir}/daemon.pid`)!;
          try {
            await waitFor(
              async () => {
                const m = await Deno.readTextFile(`${dir}/measurements.log`).catch(() => "");
                return / 127\.0\.0\.1 +N 10 111 111 1110 /.test(m);
              },
              20_000,
              "a measurements.log line with tests 111 111 1110",
            );
          } finally {
            await stopPid(pid);
          }
          const lines = (await Deno.readTextFile(`${dir}/tempcomp.log`)).trim().split("\n")
            .filter((l) => /^\d{4}-/.test(l));
          assert.ok(lines.length >= 1, "tempcomp.log lines");
          assert.match(lines[0], / 2\.6000e\+04 {2}5\.0000e-01$/);
        } finally {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        }
      },
    });
  }
}

Deno.test({
  name: "SIGTERM while the daemon is still starting: an orderly exit (code 0, pidfile removed)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    try {
      await Deno.writeTextFile(`${dir}/c.conf`, minimalConf(dir));
      const child = new Deno.Command(Deno.execPath(), {
        args: tempusDaemonArgs(["-x", "-n", "-f", `${dir}/c.conf`]),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      // The pidfile is written while the daemon is being built, before it serves.
      await waitFor(() => readPid(`${dir}/daemon.pid`) === child.pid, 30_000, "the pidfile", 2);
      child.kill("SIGTERM");
      const out = await child.output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(readPid(`${dir}/daemon.pid`), null, "the pidfile is removed");
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "tempus -n -l FILE: configuration warnings go to the file, nothing to stderr",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    try {
      await Deno.writeTextFile(`${dir}/c.conf`, minimalConf(dir, ["dumponexit"]));
      const child = new Deno.Command(Deno.execPath(), {
        args: tempusDaemonArgs(["-x", "-n", "-f", `${dir}/c.conf`, "-l", `${dir}/log`]),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitFor(
        async () => (await Deno.readTextFile(`${dir}/log`).catch(() => "")).includes("starting"),
        30_000,
        "tempus to start",
      );
      // "starting" is logged just before the pidfile is taken: wait for it to name this process.
      await waitFor(
        () => readPid(`${dir}/daemon.pid`) === child.pid,
        30_000,
        "-n: the pidfile to name this process",
      );
      child.kill("SIGTERM");
      const out = await child.output();
      assert.equal(out.code, 0);
      assert.equal(new TextDecoder().decode(out.stderr), "");
      assert.match(await Deno.readTextFile(`${dir}/log`), /WARNING .*dumponexit/);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "tempus under systemd Type=notify (NOTIFY_SOCKET): stays in front, sends READY=1",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tempDir();
    const notify = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/notify` });
    try {
      await Deno.writeTextFile(`${dir}/c.conf`, minimalConf(dir));
      const child = new Deno.Command(Deno.execPath(), {
        args: tempusDaemonArgs(["-x", "-f", `${dir}/c.conf`, "-l", `${dir}/log`]),
        env: { NOTIFY_SOCKET: `${dir}/notify` },
        stdout: "null",
        stderr: "null",
      }).spawn();
      const [data] = await notify.receive();
      assert.equal(new TextDecoder().decode(data), "READY=1");
      assert.equal(readPid(`${dir}/daemon.pid`), child.pid, "systemd's main pid is the daemon");
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
    } finally {
      notify.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "tempus -F 1 (an allow-list) is refused in one line",
  async fn() {
    const r = await runCommand(Deno.execPath(), tempusDaemonArgs(["-x", "-F", "1", "-n"]), 30_000, {
      cwd: REPO_ROOT,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr.split("\n")[0], /-F 1: level 1 \(an allow-list of system calls\)/);
  },
});

for (const daemon of ["chronyd", "tempus"] as const) {
  for (const kind of ["measurements", "rawmeasurements"]) {
    Deno.test({
      name: `${daemon} log ${kind} with an unsynchronised server: ` +
        (kind === "rawmeasurements" ? "every reply is logged, test 6 failed" : "nothing logged"),
      ignore: daemon === "chronyd" && CHRONYD === null,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        const dir = await tempDir();
        const port = freeUdpPort();
        try {
          await Deno.writeTextFile(
            `${dir}/c.conf`,
            minimalConf(dir, [
              "bindaddress 127.0.0.1",
              "allow 127.0.0.1",
              `server 127.0.0.1 port ${port} minpoll -6 maxpoll -6`,
              `logdir ${dir}`,
              `log ${kind}`,
            ], port),
          );
          const [cmd, args] = command(daemon, ["-f", `${dir}/c.conf`, "-l", `${dir}/log`]);
          const r = await runCommand(cmd, args, 60_000);
          assert.equal(r.code, 0, r.stderr);
          const pid = readPid(`${dir}/daemon.pid`)!;
          const read = () => Deno.readTextFile(`${dir}/measurements.log`).catch(() => "");
          try {
            if (kind === "rawmeasurements") {
              await waitFor(
                async () => / 127\.0\.0\.1 +\? +\d+ 111 1[01]{2} /.test(await read()),
                20_000,
                "a measurements.log line with leap ? and test 6 failed",
              );
            } else {
              // Replies arrive (ntpdata counts them) but none is synchronised.
              await waitFor(
                async () => {
                  const nd = await runCommand("chronyc", [
                    "-h",
                    `${dir}/daemon.sock`,
                    "-n",
                    "ntpdata",
                    "127.0.0.1",
                  ]);
                  return Number(nd.stdout.match(/^Total RX\s+:\s+(\d+)/m)?.[1] ?? 0) >= 3;
                },
                20_000,
                "three replies",
              );
              assert.doesNotMatch(await read(), / 127\.0\.0\.1 /);
            }
          } finally {
            await stopPid(pid);
          }
        } finally {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        }
      },
    });
  }
}
