/**
 * The NTP server edge: binds UDP sockets (port 123 by default), takes the receive time of
 * each datagram, asks the pure responder (src/core/server.ts) for a reply and sends it. One
 * reused receive buffer and one responder (with its reused reply buffer) per socket.
 * Nothing read from the network can throw out of the loop.
 *
 * Two socket backends:
 * - "kernel" (Linux, needs FFI permission): the kernel-timestamp socket adapter
 *   (src/io/kernel_socket.ts). The receive time is the kernel's arrival timestamp cooked by
 *   the adapter's one rule (src/io/kernel_timestamps.ts), so event-loop latency does not
 *   bias clients; replies leave in groups with one sendmmsg, their transmit times written
 *   just before it (src/io/batched_replies.ts).
 * - "daemon": Deno.listenDatagram; the cooked clock is read as soon as the datagram reaches
 *   JavaScript (late by the event loop's wake-up latency, tens to hundreds of µs when busy).
 * "auto" (the default) picks "kernel" when it is available.
 *
 * Needs `--unstable-net` (deno.json sets it) and net permission.
 *
 * @module
 */
import type { LogPort } from "../base/ports.ts";
import {
  addResponderStats,
  emptyResponderStats,
  NtpResponder,
  type ResponderStats,
  type ServerPolicy,
} from "../core/server.ts";
import type { Instant } from "../base/time.ts";
import type { ReferenceState } from "../core/types.ts";
import { CookedBatch, KernelSocket, kernelSocketsAvailable } from "./kernel_socket.ts";
import type { TimeScale } from "./kernel_timestamps.ts";
import { BatchedReplies, DEFAULT_REPLY_GROUP } from "./batched_replies.ts";
import { collectTxTimestamps } from "./server_tx_timestamps.ts";

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
  /** Replies per sendmmsg on kernel sockets (1: one sendto each). Default 4. */
  replyGroup?: number;
  /**
   * Sets options on each kernel socket before bind (broadcast, multicast TTL, group joins:
   * daemon/broadcast_sockets.ts); the "daemon" backend cannot take them and refuses.
   */
  configure?: (fd: number, family: number) => void;
}

/** Datagrams read per recvmmsg call. */
const BATCH = 64;
/** Batches served per wake-up before the loop waits again (and the event loop runs). */
const BATCHES_PER_WAKE = 16;

/** What the server needs from the daemon. */
export interface NtpServerDeps {
  /**
   * The cooked clock (the engine's `LocalClock`): receive times are cooked onto it, and the
   * transmit time is read from it as late as possible.
   */
  clock: TimeScale;
  /** The current reference state (called once per request). */
  reference: () => ReferenceState;
  /** Access table and client log shared by all sockets. */
  policy: ServerPolicy;
  /** Log port (errors only; nothing is logged per packet). */
  log: LogPort;
  /**
   * Broadcasts (mode 5) go here instead of the responder (a copy of the datagram, its
   * sender and cooked receive time): the broadcast client routing. Absent: ignored.
   */
  onBroadcast?: (data: Uint8Array, from: { address: string; port: number }, rx: Instant) => void;
  /**
   * Mode 6 (ntpq) answers: the fragments to send for a mode 6 datagram (empty: none).
   * Absent: mode 6 is ignored like mode 7.
   */
  control?: (request: Uint8Array, from: { address: string }, rxTime: Instant) => Uint8Array[];
  /**
   * Symmetric associations (normally the engine's `receivePeerPacket`): a mode 1 or 2
   * datagram is offered here first and, when a configured peer took it, not answered by the
   * responder. Unknown senders' mode 1 packets go on to the responder (a stateless mode 2
   * answer where the access rules allow).
   */
  peers?: PeerPacketSink;
}

/** Where packets of symmetric peers go. */
export interface PeerPacketSink {
  /**
   * Takes a packet from `from` received at cooked `rx` on a socket bound to `localAddress`
   * (null: a wildcard socket); false when no peer is configured there.
   */
  receive(
    from: { address: string; port: number },
    data: Uint8Array,
    rx: Instant,
    localAddress: string | null,
  ): boolean;
  /** A peer has xleave: kernel transmit timestamps of its packets go to `transmitted`. */
  interleaved?: boolean;
  /** The kernel's transmit time of a mode 1 packet sent from the NTP port. */
  transmitted?(payload: Uint8Array, tx: Instant): void;
}

/** The bound address of a socket, or null for a wildcard one. */
function specificAddress(hostname: string): string | null {
  return hostname === "::" || hostname === "0.0.0.0" || hostname === "" ? null : hostname;
}

/** True for a datagram in symmetric active or passive mode (the peers' packets). */
function isSymmetric(data: Uint8Array): boolean {
  const mode = data.length >= 48 ? data[0] & 7 : 0;
  return mode === 1 || mode === 2;
}

/** A running server. */
export interface NtpServerHandle {
  /** The bound addresses (with the real port when 0 was asked). */
  readonly addresses: { hostname: string; port: number }[];
  /** The socket backend in use. */
  readonly timestamping: "kernel" | "daemon";
  /** Responder counters summed over all sockets, plus I/O counters. */
  stats(): NtpServerStats;
  /**
   * Sends `data` from the server port to `address`:`port` (broadcast server): null when it
   * went out, else why not.
   */
  send(data: Uint8Array, address: string, port: number): Promise<string | null>;
  /**
   * Sends a symmetric peer's packet to `to` from the server socket of its family (peers send
   * from the NTP port); true once handed over (send errors are counted, not returned).
   */
  sendPeer(to: { address: string; port: number }, data: Uint8Array): boolean;
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
  send(data: Uint8Array, address: string, port: number): Promise<string | null>;
}

interface SocketLoop {
  socket: BoundSocket;
  responder: NtpResponder;
  /** Cooked time now, on `deps.clock`. */
  readCookedTime: () => Instant;
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
  const kernel = mode === "kernel" || (mode === "auto" && kernelSocketsAvailable());
  const io: IoCounters = { sendErrors: 0, receiveErrors: 0, kernelRxTimestamps: 0 };
  const clock = deps.clock;
  const readCookedTime = () => clock.cook(clock.rawNow());
  let loops: SocketLoop[];
  try {
    if (kernel) {
      const socks = bindAll(
        options.hosts,
        (h) =>
          KernelSocket.open(h, options.port, { scale: deps.clock, configure: options.configure }),
      );
      loops = socks.map((sock) => {
        const loop: SocketLoop = {
          socket: {
            ...sock.local,
            close: () => sock.close(),
            send: (d, a, p) => Promise.resolve(sock.send(d, a, p)),
          },
          responder: new NtpResponder(deps.policy),
          readCookedTime,
          done: Promise.resolve(),
          closed: false,
        };
        loop.done = runKernelLoop(loop, sock, deps, io, options);
        return loop;
      });
    } else {
      if (options.configure !== undefined) {
        throw new Error("broadcast and multicast need kernel sockets (FFI)");
      }
      const conns = bindAll(options.hosts, (h) => bindDeno(h, options.port));
      loops = conns.map((conn) => {
        const a = conn.addr as Deno.NetAddr;
        const loop: SocketLoop = {
          socket: {
            hostname: a.hostname,
            port: a.port,
            close: () => conn.close(),
            send: (d, address, port) =>
              conn.send(d, { transport: "udp", hostname: address, port }).then(
                () => null,
                (e) => String(e),
              ),
          },
          responder: new NtpResponder(deps.policy),
          readCookedTime,
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
    send(data, address, port) {
      // The socket of the target's family ("::" is dual-stack), else the first.
      const v6 = address.includes(":");
      const loop = loops.find((l) => l.socket.hostname.includes(":") === v6) ??
        loops.find((l) => l.socket.hostname === "::") ?? loops[0];
      return loop.socket.send(data, address, port);
    },
    sendPeer(to, data) {
      const v6 = to.address.includes(":");
      const loop = loops.find((l) => !l.closed && l.socket.hostname.includes(":") === v6) ??
        loops.find((l) => !l.closed && l.socket.hostname === "::");
      if (loop === undefined) return false;
      void loop.socket.send(data, to.address, to.port).then((error) => {
        if (error !== null) countError(io, "sendErrors", error, deps.log);
      });
      return true;
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
  reference: ReferenceState,
  deps: NtpServerDeps,
  readTxTime: () => Instant,
): Uint8Array | null {
  if (deps.onBroadcast !== undefined && data.length >= 48 && (data[0] & 7) === 5) {
    try {
      deps.onBroadcast(data.slice(), { address: from.address, port: from.port }, rxTime);
    } catch (e) {
      deps.log.log("error", `Broadcast not processed: ${String(e)}`);
    }
    return null;
  }
  try {
    return loop.responder.respond(data, from, rxTime, reference, readTxTime);
  } catch (e) {
    // The responder never throws on input; this guards the loop against bugs.
    deps.log.log("error", `NTP responder failed: ${String(e)}`);
    return null;
  }
}

/** Answers one mode 6 datagram (`deps.control` is set); never throws. */
function control(
  data: Uint8Array,
  from: { address: string },
  rxTime: Instant,
  deps: NtpServerDeps,
): Uint8Array[] {
  try {
    return deps.control?.(data, from, rxTime) ?? [];
  } catch (e) {
    deps.log.log("error", `mode 6 responder failed: ${String(e)}`);
    return [];
  }
}

/**
 * The kernel-timestamp loop: wait until readable, then read the waiting datagrams in
 * batches (recvmmsg, receive times cooked once per batch) and answer them, until none waits or BATCHES_PER_WAKE
 * batches were served; then wait again, which lets the rest of the daemon run.
 *
 * Replies are staged as they are made and leave with one sendmmsg per group
 * (src/io/batched_replies.ts), each clock-stamped transmit time written again with one
 * reading of the clock just before the call (the kernel sends them one after the other).
 */
async function runKernelLoop(
  loop: SocketLoop,
  sock: KernelSocket,
  deps: NtpServerDeps,
  io: IoCounters,
  options: NtpServerOptions,
): Promise<void> {
  const from = { address: "", port: 0 };
  const batch = new CookedBatch(BATCH, MAX_REQUEST_LENGTH);
  const raw = batch.raw;
  const clientLog = deps.policy.clientLog;
  // The transmit time: CLOCK_REALTIME now, moved onto the cooked clock through the clocks
  // read for the batch (exact for the Linux driver, whose raw clock is CLOCK_REALTIME; the
  // null driver's virtual frequency over the batch's few hundred µs is below 0.1 µs).
  let txRead: Instant | null = null;
  const readTxTime = () => (txRead = sock.cookedNowAfter(batch));
  // Replies leave with one sendmmsg per batch, their transmit times restamped just before.
  const replies = new BatchedReplies(sock, options.replyGroup ?? DEFAULT_REPLY_GROUP);
  const localAddress = specificAddress(loop.socket.hostname);
  // Interleaved mode: kernel transmit timestamps are turned on with the first reply saved.
  const txStore = clientLog?.txTimestamps ?? null;
  let txStamps = deps.peers?.interleaved === true && sock.enableTxFrames();
  while (!loop.closed && await sock.waitReadable()) {
    for (let round = 0; round < BATCHES_PER_WAKE && !loop.closed; round++) {
      let n: number;
      try {
        n = sock.receiveBatch(batch);
      } catch (e) {
        countError(io, "receiveErrors", e, deps.log);
        // Back off so a persistent error cannot spin the event loop.
        await new Promise((r) => setTimeout(r, 10));
        break;
      }
      if (txStamps) collectTxTimestamps(sock, txStore, clientLog, deps.peers?.transmitted);
      if (n === 0) break;
      // The engine cannot run during a batch: one reference state serves it all.
      const reference = deps.reference();
      for (let i = 0; i < n; i++) {
        const kernelRx = batch.kernelRx[i] === 1;
        if (kernelRx) io.kernelRxTimestamps++;
        from.address = raw.senderAddress(i);
        from.port = raw.senderPort(i);
        const data = raw.data(i);
        if (deps.control && data.length > 0 && (data[0] & 7) === 6) {
          for (const f of control(data, from, batch.rx[i], deps)) {
            if (!sock.replyInBatch(batch, i, f)) {
              countError(io, "sendErrors", "sendto failed", deps.log);
            }
          }
          continue;
        }
        if (deps.peers !== undefined && isSymmetric(data)) {
          if (deps.peers.receive(from, data, batch.rx[i], localAddress)) continue;
        }
        txRead = null;
        const reply = answer(loop, data, from, batch.rx[i], reference, deps, readTxTime);
        if (reply === null) continue;
        const failed = replies.reply(batch, i, reply, txRead);
        if (failed === 0) {
          clientLog?.countTimestamps(kernelRx ? "kernel" : "daemon");
          // Transmit timestamps are wanted from the first reply saved for interleaved mode.
          if (!txStamps && loop.responder.savedRxKey !== null && txStore !== null) {
            txStamps = sock.enableTxFrames();
          }
        } else countError(io, "sendErrors", "sendmmsg failed", deps.log);
      }
      if (replies.flush(batch) > 0) countError(io, "sendErrors", "sendmmsg failed", deps.log);
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
  const readTime = loop.readCookedTime;
  const localAddress = specificAddress(loop.socket.hostname);
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
    if (deps.control && data.length > 0 && (data[0] & 7) === 6) {
      for (const f of control(data, from, rxTime, deps)) {
        try {
          await conn.send(f, addr);
        } catch (e) {
          if (loop.closed) return;
          countError(io, "sendErrors", e, deps.log);
        }
      }
      continue;
    }
    if (
      deps.peers !== undefined && isSymmetric(data) &&
      deps.peers.receive(from, data, rxTime, localAddress)
    ) continue;
    const reply = answer(loop, data, from, rxTime, deps.reference(), deps, readTime);
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
