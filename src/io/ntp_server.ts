/**
 * The NTP server edge: binds UDP sockets (port 123 by default), takes the receive time of
 * each datagram, asks the pure responder (src/core/server.ts) for a reply and sends it. One
 * reused receive buffer and one responder (with its reused reply buffer) per socket.
 * Nothing read from the network can throw out of the loop.
 *
 * Two socket backends:
 * - "kernel" (Linux, needs FFI permission): libc sockets with SO_TIMESTAMPNS
 *   (ffi/udp_socket.ts). The receive time is the kernel's arrival timestamp moved
 *   onto the cooked clock (cooked now minus the timestamp's age), so event-loop latency does
 *   not bias clients; replies leave with a synchronous sendto just after the transmit time
 *   is read.
 * - "daemon": Deno.listenDatagram; the cooked clock is read as soon as the datagram reaches
 *   JavaScript (late by the event loop's wake-up latency, tens to hundreds of µs when busy).
 * "auto" (the default) picks "kernel" when it is available.
 *
 * Needs `--unstable-net` (deno.json sets it) and net permission.
 *
 * @module
 */
import type { LogPort } from "../core/ports.ts";
import {
  addResponderStats,
  emptyResponderStats,
  NtpResponder,
  type ResponderStats,
  type ServerPolicy,
} from "../core/server.ts";
import type { Instant } from "../core/time.ts";
import type { ReferenceState } from "../core/types.ts";
import { KernelTimestampSocket, kernelTimestampSocketsAvailable } from "../../ffi/udp_socket.ts";

/** Largest datagram read; longer ones are truncated by the kernel (and then rejected). */
export const MAX_REQUEST_LENGTH = 4096;

/** Where to listen. */
export interface NtpServerOptions {
  /** Addresses to bind (empty: "::" dual-stack, falling back to "0.0.0.0"). */
  hosts: string[];
  /** UDP port (123 normally; 0 lets the OS pick, for tests). */
  port: number;
  /** Socket backend: "auto" (default: kernel when available), "kernel" or "daemon". */
  timestamping?: "auto" | "kernel" | "daemon";
}

/** A kernel receive timestamp older than this is not trusted (the clock was stepped). */
const MAX_KERNEL_TS_AGE_NS = 1_000_000_000n;
/** Datagrams read per wake-up before yielding to the event loop. */
const BATCH = 64;

/** What the server needs from the daemon. */
export interface NtpServerDeps {
  /** The cooked clock (raw time plus the correction being slewed), read at once on receive. */
  readCookedTime: () => Instant;
  /**
   * Converts a CLOCK_REALTIME instant (a kernel receive timestamp) to cooked time. Only
   * LocalClock.cook when the driver's raw time is CLOCK_REALTIME (the Linux driver); with
   * the null driver (-x) raw time includes the virtual correction, so leave this out.
   * Optional: without it, the timestamp's age is taken from CLOCK_REALTIME and subtracted
   * from the cooked time now, which is right for every driver.
   */
  cookRawTime?: (raw: Instant) => Instant;
  /** The current reference state (called once per request). */
  reference: () => ReferenceState;
  /** Access table and client log shared by all sockets. */
  policy: ServerPolicy;
  /** Log port (errors only; nothing is logged per packet). */
  log: LogPort;
}

/** A running server. */
export interface NtpServerHandle {
  /** The bound addresses (with the real port when 0 was asked). */
  readonly addresses: { hostname: string; port: number }[];
  /** The socket backend in use. */
  readonly timestamping: "kernel" | "daemon";
  /** Responder counters summed over all sockets, plus I/O counters. */
  stats(): NtpServerStats;
  /** Closes every socket and waits for the loops to end. */
  close(): Promise<void>;
}

/** Responder counters plus I/O counters of the edge. */
export interface NtpServerStats extends ResponderStats {
  /** sendto/send failures. */
  sendErrors: number;
  /** receive failures (other than "nothing to read"). */
  receiveErrors: number;
  /** Requests timestamped by the kernel. */
  kernelRxTimestamps: number;
}

/** One bound socket of either backend. */
interface BoundSocket {
  hostname: string;
  port: number;
  close(): void;
}

interface SocketLoop {
  socket: BoundSocket;
  responder: NtpResponder;
  done: Promise<void>;
  closed: boolean;
}

type IoCounters = { sendErrors: number; receiveErrors: number; kernelRxTimestamps: number };

/** "::ffff:1.2.3.4" -> "1.2.3.4" (dual-stack sockets report IPv4 clients that way). */
function plainAddress(hostname: string): string {
  if (hostname.length > 7 && hostname.charCodeAt(0) === 58 && hostname.startsWith("::ffff:")) {
    const rest = hostname.slice(7);
    if (rest.includes(".")) return rest;
  }
  return hostname;
}

function bindDeno(hostname: string, port: number): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port });
}

/** Binds every host with `bind`; empty hosts: "::" then "0.0.0.0". Closes all on failure. */
function bindAll<T extends { close(): void }>(
  hosts: string[],
  bind: (host: string) => T,
): T[] {
  const out: T[] = [];
  try {
    if (hosts.length === 0) {
      try {
        out.push(bind("::"));
      } catch {
        out.push(bind("0.0.0.0"));
      }
    } else {
      for (const host of hosts) out.push(bind(host));
    }
  } catch (e) {
    for (const c of out) c.close();
    throw e;
  }
  return out;
}

/**
 * Starts serving NTP on every host of `options.hosts`. Rejects only if a socket cannot be
 * bound (the caller reports it); after that, bad input and send failures are counted, not
 * thrown.
 */
export function startNtpServer(
  options: NtpServerOptions,
  deps: NtpServerDeps,
): Promise<NtpServerHandle> {
  const mode = options.timestamping ?? "auto";
  const kernel = mode === "kernel" || (mode === "auto" && kernelTimestampSocketsAvailable());
  const io: IoCounters = { sendErrors: 0, receiveErrors: 0, kernelRxTimestamps: 0 };
  let loops: SocketLoop[];
  try {
    if (kernel) {
      const socks = bindAll(options.hosts, (h) => KernelTimestampSocket.open(h, options.port));
      loops = socks.map((sock) => {
        const loop: SocketLoop = {
          socket: { ...sock.local, close: () => sock.close() },
          responder: new NtpResponder(deps.policy),
          done: Promise.resolve(),
          closed: false,
        };
        loop.done = runKernelLoop(loop, sock, deps, io);
        return loop;
      });
    } else {
      const conns = bindAll(options.hosts, (h) => bindDeno(h, options.port));
      loops = conns.map((conn) => {
        const a = conn.addr as Deno.NetAddr;
        const loop: SocketLoop = {
          socket: { hostname: a.hostname, port: a.port, close: () => conn.close() },
          responder: new NtpResponder(deps.policy),
          done: Promise.resolve(),
          closed: false,
        };
        loop.done = runDenoLoop(loop, conn, deps, io);
        return loop;
      });
    }
  } catch (e) {
    return Promise.reject(e);
  }

  const addresses = loops.map((l) => ({ hostname: l.socket.hostname, port: l.socket.port }));
  const timestamping = kernel ? "kernel" : "daemon";
  for (const a of addresses) {
    deps.log.log(
      "info",
      `NTP server listening on ${a.hostname} port ${a.port} (${timestamping} RX timestamps)`,
    );
  }

  return Promise.resolve({
    addresses,
    timestamping,
    stats() {
      const sum: NtpServerStats = { ...emptyResponderStats(), ...io };
      for (const l of loops) addResponderStats(sum, l.responder.stats);
      return sum;
    },
    async close() {
      for (const l of loops) {
        if (l.closed) continue;
        l.closed = true;
        try {
          l.socket.close();
        } catch {
          // already closed
        }
      }
      await Promise.all(loops.map((l) => l.done));
    },
  });
}

/** Logs the first and every 1000th I/O error of a kind (never per packet). */
function countError(
  io: IoCounters,
  kind: "sendErrors" | "receiveErrors",
  e: unknown,
  log: LogPort,
): void {
  io[kind]++;
  if (io[kind] === 1 || io[kind] % 1000 === 0) {
    log.log("warning", `NTP server ${kind === "sendErrors" ? "send" : "receive"} error: ${e}`, {
      count: io[kind],
    });
  }
}

/** Answers one datagram; never throws. */
function answer(
  loop: SocketLoop,
  data: Uint8Array,
  from: { address: string; port: number },
  rxTime: Instant,
  deps: NtpServerDeps,
): Uint8Array | null {
  try {
    return loop.responder.respond(data, from, rxTime, deps.reference(), deps.readCookedTime);
  } catch (e) {
    // The responder never throws on input; this guards the loop against bugs.
    deps.log.log("error", `NTP responder failed: ${String(e)}`);
    return null;
  }
}

/** The kernel-timestamp loop: wait, then drain up to BATCH datagrams synchronously. */
async function runKernelLoop(
  loop: SocketLoop,
  sock: KernelTimestampSocket,
  deps: NtpServerDeps,
  io: IoCounters,
): Promise<void> {
  const from = { address: "", port: 0 };
  const cook = deps.cookRawTime;
  while (!loop.closed && await sock.waitReadable()) {
    for (let i = 0; i < BATCH && !loop.closed; i++) {
      let got;
      try {
        got = sock.receive();
      } catch (e) {
        countError(io, "receiveErrors", e, deps.log);
        // Back off so a persistent error cannot spin the event loop.
        await new Promise((r) => setTimeout(r, 10));
        break;
      }
      if (got === null) break;
      let rxTime: Instant;
      let kernelRx = false;
      const raw = got.kernelRxRaw;
      if (raw !== null && cook !== undefined) {
        rxTime = cook(raw);
        kernelRx = true;
      } else {
        rxTime = deps.readCookedTime();
        if (raw !== null) {
          const age = sock.realtimeNow() - raw;
          if (age >= 0n && age < MAX_KERNEL_TS_AGE_NS) {
            rxTime -= age;
            kernelRx = true;
          }
        }
      }
      if (kernelRx) io.kernelRxTimestamps++;
      from.address = got.address;
      from.port = got.port;
      const reply = answer(loop, got.data, from, rxTime, deps);
      if (reply === null) continue;
      if (sock.replyToLast(reply)) {
        deps.policy.clientLog?.countTimestamps(kernelRx ? "kernel" : "daemon");
      } else countError(io, "sendErrors", "sendto failed", deps.log);
    }
  }
}

/** The Deno.listenDatagram loop: receive, read the clock at once, answer, send. */
async function runDenoLoop(
  loop: SocketLoop,
  conn: Deno.DatagramConn,
  deps: NtpServerDeps,
  io: IoCounters,
): Promise<void> {
  const buffer = new Uint8Array(MAX_REQUEST_LENGTH);
  const from = { address: "", port: 0 };
  const readTime = deps.readCookedTime;
  while (!loop.closed) {
    let data: Uint8Array;
    let addr: Deno.NetAddr;
    let rxTime: Instant;
    try {
      const [d, a] = await conn.receive(buffer);
      rxTime = readTime();
      data = d;
      addr = a as Deno.NetAddr;
    } catch (e) {
      if (loop.closed || e instanceof Deno.errors.BadResource) return;
      countError(io, "receiveErrors", e, deps.log);
      // Yield so a persistent error cannot spin the event loop.
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    from.address = plainAddress(addr.hostname);
    from.port = addr.port;
    const reply = answer(loop, data, from, rxTime, deps);
    if (reply === null) continue;
    try {
      deps.policy.clientLog?.countTimestamps("daemon");
      await conn.send(reply, addr);
    } catch (e) {
      if (loop.closed) return;
      countError(io, "sendErrors", e, deps.log);
    }
  }
}
