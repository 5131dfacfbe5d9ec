/**
 * The native impairing relay (tests/bench/impair_relay.c) behind the same `ImpairRelay`
 * interface as `startImpairRelay` (tests/helpers/impair_relay.ts): same options, same
 * semantics, but every datagram is timed from its kernel receive timestamp and sent at
 * rx + scripted delay by a single C thread (sleep to ~100 µs before the due time, then spin),
 * so the relay's own latency is a few microseconds and the same in both directions. The
 * binary is compiled with gcc once per process into a temporary directory.
 *
 * The relay reports its counters when it stops: `stats` (and `timing`) are filled in by
 * `close()`, and read zero before.
 *
 * @module
 */
import type { ImpairRelay, ImpairRelayOptions, ImpairRelayStats } from "./impair_relay.ts";
import { haveBinary, runCommand, terminate } from "./peers.ts";

/** How late the native relay sent its packets, per direction (filled in at close). */
export interface NativeRelayTiming {
  /** Packets sent more than 10 µs after their due time, client to server. */
  upLate: number;
  /** Mean lateness of the sent client-to-server packets, µs. */
  upLateMeanUs: number;
  /** Largest lateness of a client-to-server packet, µs. */
  upLateMaxUs: number;
  /** Mean time from the kernel's receive timestamp to the relay reading it, up, µs. */
  upReadMeanUs: number;
  /** Largest such time, up, µs. */
  upReadMaxUs: number;
  /** Packets sent more than 10 µs after their due time, server to client. */
  downLate: number;
  /** Mean lateness of the sent server-to-client packets, µs. */
  downLateMeanUs: number;
  /** Largest lateness of a server-to-client packet, µs. */
  downLateMaxUs: number;
  /** Mean time from the kernel's receive timestamp to the relay reading it, down, µs. */
  downReadMeanUs: number;
  /** Largest such time, down, µs. */
  downReadMaxUs: number;
  /** Datagrams that could not be sent (sendto failed, or the link was gone). */
  sendErrors: number;
  /** Requests that arrived while the relay was busy-polling for them (anticipation). */
  anticipated: number;
  /** Time spent busy-polling around expected requests, ms. */
  anticipateSpinMs: number;
}

/** A running native relay: the `ImpairRelay` interface plus its timing figures. */
export interface NativeImpairRelay extends ImpairRelay {
  /** Lateness and read delay per direction, filled in by `close()` (zero before). */
  timing: NativeRelayTiming;
}

/** True when the native relay can be built here (gcc on PATH). */
export function nativeRelayAvailable(): boolean {
  return haveBinary("gcc");
}

let built: Promise<string> | null = null;

/**
 * Compiles tests/bench/impair_relay.c with gcc into a temporary directory, once per process
 * (later calls return the same binary). Throws with gcc's output when it fails.
 */
export function buildNativeRelay(): Promise<string> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "tempus-native-relay-" });
    const out = `${dir}/impair_relay`;
    const src = new URL("../bench/impair_relay.c", import.meta.url).pathname;
    const r = await runCommand("gcc", ["-O2", "-Wall", "-o", out, src, "-lm"], 60_000);
    if (r.code !== 0) {
      built = null;
      throw new Error(`gcc failed:\n${r.stdout}${r.stderr}`);
    }
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
    return out;
  })();
  return built;
}

/** The relay's command line for `options` (exported for tests). */
export function nativeRelayArgs(options: ImpairRelayOptions): string[] {
  const dir = (d: ImpairRelayOptions["up"]) =>
    `${d?.baseDelayMs ?? 0},${d?.jitterMs ?? 0},${d?.loss ?? 0}`;
  const args = [
    "--listen",
    options.listenHost ?? "127.0.0.1",
    "--listen-port",
    `${options.listenPort ?? 0}`,
    "--upstream",
    options.upstreamHost,
    "--upstream-port",
    `${options.upstreamPort}`,
    "--up",
    dir(options.up),
    "--down",
    dir(options.down),
    "--seed",
    `${(options.seed ?? 1) >>> 0}`,
    "--max-queue",
    `${options.maxQueue ?? 256}`,
    "--max-clients",
    `${options.maxClients ?? 64}`,
    "--idle-seconds",
    `${options.idleSeconds ?? 20}`,
    "--watch-stdin",
    "1",
  ];
  // Extra relay options for experiments (e.g. "--spin-us 200 --fifo 10"), see impair_relay.c.
  const extra = Deno.env.get("TEMPUS_NATIVE_RELAY_ARGS")?.trim();
  if (extra) args.push(...extra.split(/\s+/));
  for (const w of options.windows ?? []) {
    const [lo, hi] = w.extraDelayMs ?? [0, 0];
    args.push("--window", `${w.kind},${w.startS},${w.endS},${w.direction ?? "both"},${lo},${hi}`);
  }
  return args;
}

/**
 * Builds (once) and starts the native relay with `options`; resolves when it is listening.
 * `close()` stops it with SIGTERM (SIGKILL after 2 s), reads its final counters into `stats`
 * and `timing`, and waits for it to exit.
 */
export async function startNativeRelay(options: ImpairRelayOptions): Promise<NativeImpairRelay> {
  const bin = await buildNativeRelay();
  const child = new Deno.Command(bin, {
    args: nativeRelayArgs(options),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let out = "";
  let err = "";
  const reader = child.stdout.getReader();
  const errPump = (async () => {
    for await (const chunk of child.stderr) err += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  // The first line is the bound port.
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      await errPump;
      throw new Error(`native relay did not start: ${err.trim()}`);
    }
    out += decoder.decode(value, { stream: true });
  }
  const port = Number(out.slice(0, out.indexOf("\n")));
  out = out.slice(out.indexOf("\n") + 1);
  const outPump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out += decoder.decode(value, { stream: true });
    }
  })().catch(() => {});
  const stats: ImpairRelayStats = {
    upReceived: 0,
    upSent: 0,
    downReceived: 0,
    downSent: 0,
    lost: 0,
    outageDropped: 0,
    overflowDropped: 0,
    evicted: 0,
  };
  const timing: NativeRelayTiming = {
    upLate: 0,
    upLateMeanUs: 0,
    upLateMaxUs: 0,
    upReadMeanUs: 0,
    upReadMaxUs: 0,
    downLate: 0,
    downLateMeanUs: 0,
    downLateMaxUs: 0,
    downReadMeanUs: 0,
    downReadMaxUs: 0,
    sendErrors: 0,
    anticipated: 0,
    anticipateSpinMs: 0,
  };
  let closing: Promise<void> | null = null;
  return {
    host: options.listenHost ?? "127.0.0.1",
    port,
    stats,
    timing,
    close() {
      closing ??= (async () => {
        await terminate(child);
        await outPump;
        await errPump;
        await child.stdin.close().catch(() => {});
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line === undefined) return;
        const parsed = JSON.parse(line) as Record<string, number>;
        for (const key of Object.keys(stats) as (keyof ImpairRelayStats)[]) {
          stats[key] = parsed[key] ?? 0;
        }
        for (const key of Object.keys(timing) as (keyof NativeRelayTiming)[]) {
          timing[key] = parsed[key] ?? 0;
        }
      })();
      return closing;
    },
  };
}
