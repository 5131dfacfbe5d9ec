/**
 * Test support: a real `chronyd -x` serving NTP on loopback on a free port (local stratum 1,
 * no command port, files in a temp dir), `chronyd -Q` measurements against it, and running
 * tempus as a subprocess. Used by the interop tests and the benchmark; never touches the
 * clock (-x for the server, -Q for the measurement).
 *
 * @module
 */
import type { SocketAddress } from "../core/ports.ts";
import { exchange } from "../io/udp.ts";
import { buildClientRequest } from "./measure.ts";

/** Where Debian installs chronyd. */
export const CHRONYD = "/usr/sbin/chronyd";

/** True when chronyd is installed (tests are skipped otherwise). */
export function haveChronyd(): boolean {
  try {
    return Deno.statSync(CHRONYD).isFile;
  } catch {
    return false;
  }
}

/** A running chronyd server. */
export interface ChronydServer {
  /** Its NTP address. */
  address: SocketAddress;
  /** "127.0.0.1:PORT". */
  target: string;
  /** Temp dir holding config, pidfile, driftfile. */
  dir: string;
  /** Kills chronyd, waits for it and removes the temp dir. */
  stop(): Promise<void>;
}

/** Returns a UDP port that was free a moment ago on `host`. */
export function freeUdpPort(host: string): number {
  const probe = Deno.listenDatagram({ hostname: host, port: 0, transport: "udp" });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

/** Starts `chronyd -x -d` on `host` and waits until it answers NTP requests. */
export async function startChronyd(host = "127.0.0.1"): Promise<ChronydServer> {
  const dir = await Deno.makeTempDir({ prefix: "tempus-chronyd-" });
  await Deno.chmod(dir, 0o777);
  const port = freeUdpPort(host);
  const conf = [
    "local stratum 1",
    "allow 127.0.0.0/8",
    `bindaddress ${host}`,
    `port ${port}`,
    "cmdport 0",
    `pidfile ${dir}/chronyd.pid`,
    `driftfile ${dir}/drift`,
  ].join("\n");
  await Deno.writeTextFile(`${dir}/chrony.conf`, conf + "\n");
  const child = new Deno.Command(CHRONYD, {
    args: ["-x", "-d", "-f", `${dir}/chrony.conf`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const address = { address: host, port };
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const request = buildClientRequest(crypto.getRandomValues(new Uint8Array(8)));
      const r = await exchange(address, request.bytes, {
        clock: () => BigInt(Date.now()) * 1_000_000n,
        timeoutMs: 100,
      });
      if (r.accepted) break;
      if (Date.now() > deadline) throw new Error("chronyd did not start answering in 5 s");
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, target: `${host}:${port}`, dir, stop };
}

/** The result of `chronyd -Q` against a server. */
export interface ChronydQuery {
  /** "System clock wrong by X seconds": X, reference minus local (tempus sign). */
  offset: number;
  /** Wall time of the chronyd -Q process, ms. */
  wallMs: number;
}

/**
 * Runs `chronyd -Q` (measure only, never sets the clock) against `server` with `extra`
 * server options (e.g. "maxsamples 1"), returning the offset it prints.
 */
export async function chronydQuery(server: ChronydServer, extra = ""): Promise<ChronydQuery> {
  const pidfile = `${server.dir}/q-${crypto.randomUUID()}.pid`;
  const start = performance.now();
  const out = await new Deno.Command(CHRONYD, {
    args: [
      "-Q",
      "-u",
      "root",
      `pidfile ${pidfile}`,
      `server ${server.address.address} port ${server.address.port} iburst ${extra}`.trim(),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wallMs = performance.now() - start;
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const match = /System clock wrong by ([-+0-9.eE]+) seconds/.exec(text);
  if (match === null) throw new Error(`chronyd -Q printed no offset: ${text.trim()}`);
  return { offset: Number(match[1]), wallMs };
}

/** The output of a tempus subprocess. */
export interface TempusRun {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
  /** Wall time, ms. */
  wallMs: number;
}

/** Runs `deno run -A --unstable-net ENTRY args...` from the repository root. */
export async function runTempus(
  args: string[],
  entry = "mod.ts",
  env: Record<string, string> = {},
): Promise<TempusRun> {
  const root = new URL("../../", import.meta.url).pathname;
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", entry, ...args],
    cwd: root,
    env: { TEMPUS_NO_CLOCK: "1", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    wallMs: performance.now() - start,
  };
}
