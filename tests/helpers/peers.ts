/**
 * Test helpers for the real peers: finding binaries, free ports, a chronyd -x serving on
 * loopback, chronyd -Q measurements, running a command or tempus with a timeout, and polling
 * until a condition holds. Every process started here
 * is killed by the returned handle's `stop()`, which tests call in `finally`.
 *
 * @module
 */
import { joinHostPort } from "../../src/io/dns.ts";

/** Repository root (tests run from anywhere). */
export const REPO_ROOT = new URL("../..", import.meta.url).pathname;

/**
 * The path of an executable found on PATH (or given as an absolute path), else in
 * `extraDirs` (e.g. "/usr/sbin" when PATH lacks it); null when there is none.
 */
export function findBinary(name: string, extraDirs: readonly string[] = []): string | null {
  const dirs = name.startsWith("/")
    ? [""]
    : [...(Deno.env.get("PATH") ?? "").split(":"), ...extraDirs];
  for (const dir of dirs) {
    const path = dir ? `${dir}/${name}` : name;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** True when an executable exists on PATH (or as an absolute path). */
export function haveBinary(name: string): boolean {
  return findBinary(name) !== null;
}

/** chronyd's path when installed (on PATH or where distributions put it), else null. */
export function findChronyd(): string | null {
  return findBinary("chronyd", ["/usr/sbin", "/usr/bin", "/sbin"]);
}

/** True if a UDP socket can be bound on `host`:`port` right now (e.g. 123 is free there). */
export function canBind(host: string, port: number): boolean {
  try {
    const c = Deno.listenDatagram({ transport: "udp", hostname: host, port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** A UDP port free on `host` right now (bound and released). */
export function freeUdpPort(host = "127.0.0.1"): number {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: host, port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  socket.close();
  return port;
}

/** Output of a finished command. */
export interface CommandOutput {
  /** Exit code (-1 when killed by the timeout). */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** Wall time, milliseconds. */
  elapsedMs: number;
}

/** Where and with what environment a command runs. */
export interface CommandOptions {
  /** Working directory (default: the current one). */
  cwd?: string;
  /** Variables added to the inherited environment. */
  env?: Record<string, string>;
}

/** Runs a command to completion (killing it after `timeoutMs`). */
export async function runCommand(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
  options: CommandOptions = {},
): Promise<CommandOutput> {
  const started = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.signal === "SIGKILL" ? -1 : out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      elapsedMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `tempus ARGS...` from the source tree (in the repository root), with
 * TEMPUS_NO_CLOCK=1 as a guard against clock writes and NO_COLOR=1; `env` adds variables.
 */
export function runTempus(
  args: string[],
  timeoutMs = 30_000,
  env: Record<string, string> = {},
): Promise<CommandOutput> {
  return runCommand(
    Deno.execPath(),
    ["run", "-A", "--unstable-net", "--quiet", `${REPO_ROOT}mod.ts`, ...args],
    timeoutMs,
    { cwd: REPO_ROOT, env: { TEMPUS_NO_CLOCK: "1", NO_COLOR: "1", ...env } },
  );
}

/** A long-running process with its collected stderr. */
export interface Background {
  /** The child process. */
  child: Deno.ChildProcess;
  /** Everything it wrote to stderr and stdout so far. */
  output(): string;
  /** Kills it (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a background process whose output is collected. */
export function startBackground(cmd: string, args: string[]): Background {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]).catch(() => {});
  let stopped = false;
  return {
    child,
    output: () => text,
    async stop(graceMs = 2000) {
      if (stopped) return;
      stopped = true;
      await terminate(child, graceMs);
      await pumps;
    },
  };
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function terminate(child: Deno.ChildProcess, graceMs = 2000): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, graceMs);
  await child.status;
  clearTimeout(timer);
}

/** A chronyd -x serving NTP on loopback. */
export interface ChronydServer extends Background {
  /** Address it serves on. */
  address: string;
  /** UDP port it serves on. */
  port: number;
  /** "ADDRESS:PORT" ("[ADDRESS]:PORT" for IPv6), as tempus query and sync take it. */
  target: string;
  /** Its temporary directory. */
  dir: string;
}

/**
 * Starts `chronyd -x -d` serving NTP on `address:port` as a stratum-`stratum` local
 * reference (it never touches the clock). Extra directives may be appended.
 */
export async function startChronydServer(
  options: { address?: string; port?: number; stratum?: number; extra?: string[] } = {},
): Promise<ChronydServer> {
  const address = options.address ?? "127.0.0.1";
  const port = options.port ?? freeUdpPort(address);
  const dir = await Deno.makeTempDir({ prefix: "tempus-chronyd-" });
  const conf = [
    `local stratum ${options.stratum ?? 1}`,
    "allow 127.0.0.0/8",
    `bindaddress ${address}`,
    `port ${port}`,
    "cmdport 0",
    `pidfile ${dir}/chronyd.pid`,
    `driftfile ${dir}/drift`,
    ...(options.extra ?? []),
  ].join("\n");
  await Deno.writeTextFile(`${dir}/chronyd.conf`, conf + "\n");
  const bg = startBackground("chronyd", ["-x", "-d", "-u", "root", "-f", `${dir}/chronyd.conf`]);
  // Wait until it answers NTP.
  await waitFor(() => ntpAnswers(address, port), 5000, "chronyd to answer NTP");
  return {
    ...bg,
    address,
    port,
    target: joinHostPort(address, port),
    dir,
    async stop(graceMs?: number) {
      await bg.stop(graceMs);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** True when an NTP server answers one client request at address:port within 300 ms. */
export async function ntpAnswers(address: string, port: number): Promise<boolean> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const request = new Uint8Array(48);
  request[0] = 0x23;
  crypto.getRandomValues(request.subarray(40));
  const timer = setTimeout(() => socket.close(), 300);
  try {
    await socket.send(request, { transport: "udp", hostname: address, port });
    const [reply] = await socket.receive();
    return reply.length >= 48 && (reply[0] & 7) === 4;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      socket.close();
    } catch {
      // closed by the timer
    }
  }
}

/** Polls `condition` every `intervalMs` (100) ms until it holds; throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** What one `chronyd -Q` run measured. */
export interface ChronydQuery {
  /** "System clock wrong by X seconds": X, reference minus local (tempus sign). */
  offset: number;
  /** Wall time of the chronyd -Q process, ms. */
  elapsedMs: number;
}

/**
 * Runs `chronyd -Q` (measure only, never sets the clock; no command port) against a server,
 * with `serverOptions` appended to its `server` line (e.g. "maxsamples 1").
 */
export async function chronydQuery(
  address: string,
  port: number,
  serverOptions = "",
): Promise<ChronydQuery> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-chronyq-" });
  try {
    const out = await runCommand("chronyd", [
      "-Q",
      "-u",
      "root",
      "-t",
      "20",
      `pidfile ${dir}/q.pid`,
      "cmdport 0",
      `logdir ${dir}`,
      "log measurements",
      `server ${address} port ${port} iburst ${serverOptions}`.trim(),
    ], 25_000);
    const text = out.stdout + out.stderr;
    const match = text.match(/System clock wrong by ([-+0-9.eE]+) seconds/);
    if (!match) {
      // What chronyd made of each reply (its test bits): why none became a sample.
      const measured = await Deno.readTextFile(`${dir}/measurements.log`).catch(() => "(none)");
      throw new Error(`chronyd -Q gave no offset:\n${text}\nmeasurements.log:\n${measured}`);
    }
    return { offset: Number(match[1]), elapsedMs: out.elapsedMs };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `chronyd -Q` against a server and returns the measured offset in seconds. */
export async function chronydMeasure(
  address: string,
  port: number,
  serverOptions = "",
): Promise<number> {
  return (await chronydQuery(address, port, serverOptions)).offset;
}
