/**
 * Test helper: a `tempus daemon -x` process on loopback with its own temporary directory,
 * command port and Unix command socket, synchronising to an upstream NTP server, plus the
 * real chronyc pointed at it. The host clock is never touched (-x).
 *
 * @module
 */
import {
  type Background,
  freeUdpPort,
  REPO_ROOT,
  runCommand,
  startBackground,
  startChronydServer,
  waitFor,
} from "./peers.ts";

/** A running tempus daemon under test. */
export interface TempusUnderTest extends Background {
  /** Its temporary directory (pidfile, driftfile, socket). */
  dir: string;
  /** Its UDP command port on 127.0.0.1. */
  cmdPort: number;
  /** Its Unix command socket path. */
  socket: string;
  /** Runs the real chronyc against its UDP command port (-n); stdout plus stderr. */
  chronyc(...args: string[]): Promise<string>;
  /** Runs the real chronyc against its Unix socket (full access). */
  chronycUnix(...args: string[]): Promise<string>;
  /** Waits until chronyc shows the upstream 127.0.0.1 selected (`^*`). */
  waitSelected(timeoutMs?: number): Promise<void>;
}

/** Arguments that run `tempus daemon` from the source tree. */
export function tempusDaemonArgs(args: string[]): string[] {
  return ["run", "-A", "--unstable-net", "--quiet", `${REPO_ROOT}mod.ts`, "daemon", ...args];
}

/**
 * Starts `tempus daemon -x -d [args]` with a server line for `upstreamPort` on 127.0.0.1 (fast
 * polling), a pidfile, driftfile, UDP command port and Unix socket in a temporary directory,
 * and any `extra` directives.
 */
export async function startTempusDaemon(
  upstreamPort: number,
  extra: string[] = [],
  options: { serverOptions?: string; args?: string[] } = {},
): Promise<TempusUnderTest> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-test-" });
  await Deno.chmod(dir, 0o750);
  const cmdPort = freeUdpPort();
  const socket = `${dir}/tempus.sock`;
  const server = options.serverOptions ?? "iburst minpoll -1 maxpoll 1";
  const bg = startBackground(
    Deno.execPath(),
    tempusDaemonArgs([
      "-x",
      "-d",
      ...(options.args ?? []),
      `server 127.0.0.1 port ${upstreamPort} ${server}`,
      `pidfile ${dir}/tempus.pid`,
      `driftfile ${dir}/drift`,
      `cmdport ${cmdPort}`,
      "bindcmdaddress 127.0.0.1",
      `bindcmdaddress ${socket}`,
      ...extra,
    ]),
  );
  const run = async (host: string, args: string[]) => {
    const out = await runCommand("chronyc", ["-n", "-h", host, "-p", `${cmdPort}`, ...args]);
    return out.stdout + out.stderr;
  };
  const chronyc = (...args: string[]) => run("127.0.0.1", args);
  return {
    ...bg,
    dir,
    cmdPort,
    socket,
    chronyc,
    chronycUnix: (...args: string[]) => run(socket, args),
    async waitSelected(timeoutMs = 20_000) {
      let last = "";
      await waitFor(
        async () => {
          last = await chronyc("sources");
          return /^\^\* 127\.0\.0\.1/m.test(last);
        },
        timeoutMs,
        "tempus to select its source",
      ).catch((e) => {
        throw new Error(`${e.message}\nchronyc sources:\n${last}\ndaemon:\n${bg.output()}`);
      });
    },
    async stop(grace?: number) {
      await bg.stop(grace);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Starts a `chronyd -x` upstream (stratum 1) and a tempus daemon synchronising to it
 * (`startTempusDaemon(upstream.port, extra, options)`), runs `body`, and stops both whatever
 * happens.
 */
export async function withTempusDaemon(
  extra: string[],
  options: { serverOptions?: string; args?: string[] },
  body: (daemon: TempusUnderTest) => Promise<void>,
): Promise<void> {
  const upstream = await startChronydServer();
  const daemon = await startTempusDaemon(upstream.port, extra, options);
  try {
    await body(daemon);
  } finally {
    await daemon.stop();
    await upstream.stop();
  }
}
