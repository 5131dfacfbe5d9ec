/**
 * The NTP server's "kernel" backend (Linux, needs FFI permission): sockets of the
 * kernel-timestamp adapter (src/io/kernel_socket.ts), datagrams read in batches with their
 * kernel arrival times cooked once per batch, replies sent in groups with one sendmmsg
 * (src/io/batched_replies.ts), and kernel transmit timestamps for interleaved mode.
 *
 * Waking up. A socket shared with Deno (`KernelSocket.openShared`) waits in Deno's event
 * loop: one thread is woken per request, where a poll() on the blocking pool wakes a pool
 * thread and then the event loop (measured at one request in flight: 18-23 µs of CPU per
 * request against 22-52 µs; docs/benchmarks.md). A saturated server waits with poll(),
 * which lets the next batch fill while a pool thread wakes (measured: slightly less CPU
 * per request and a smaller served offset than waking through Deno there).
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import { NtpResponder } from "../core/server.ts";
import type { ReferenceState } from "../core/types.ts";
import { BatchedReplies, DEFAULT_REPLY_GROUP } from "./batched_replies.ts";
import { CookedBatch, KernelSocket, type SharedDatagram } from "./kernel_socket.ts";
import { countError, type IoCounters } from "./server_counters.ts";
import { type Datagram, dispatchDatagram, type NtpServerDeps } from "./server_dispatch.ts";
import { bindAll, MAX_REQUEST_LENGTH, type SocketLoop, specificAddress } from "./server_loop.ts";
import { collectTxTimestamps } from "./server_tx_timestamps.ts";

/** Datagrams read per recvmmsg call. */
const BATCH = 64;
/** Batches served per wake-up before the loop waits again (and the event loop runs). */
const BATCHES_PER_WAKE = 16;

/** What the kernel backend takes from the server options. */
export interface KernelLoopOptions {
  /** Addresses to bind (empty: "::" dual-stack, falling back to "0.0.0.0"). */
  hosts: string[];
  /** UDP port (123 normally; 0 lets the OS pick, for tests). */
  port: number;
  /** Replies per sendmmsg on kernel sockets (1: one sendto each). Default DEFAULT_REPLY_GROUP. */
  replyGroup?: number;
  /**
   * Sets options on each kernel socket before bind (broadcast, multicast TTL, group joins:
   * daemon/broadcast_sockets.ts); the "daemon" backend of the NTP server cannot take them and
   * refuses.
   */
  configure?: (fd: number, family: number) => void;
}

/**
 * Binds a kernel socket on every host and starts its loop. Throws if a socket cannot be
 * bound (the ones bound are closed).
 */
export function openKernelLoops(
  options: KernelLoopOptions,
  deps: NtpServerDeps,
  io: IoCounters,
  readCookedTime: () => Instant,
): SocketLoop[] {
  const socks = bindAll(options.hosts, (h) => openServerSocket(h, options, deps));
  return socks.map((sock) => {
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
    loop.done = runKernelLoop(loop, sock, deps, io, options.replyGroup);
    return loop;
  });
}

/**
 * A server socket: shared with Deno (woken by Deno's own event loop) unless options must be
 * set before bind; a plain FFI socket when that is needed or the sharing fails.
 */
function openServerSocket(
  host: string,
  options: KernelLoopOptions,
  deps: NtpServerDeps,
): KernelSocket {
  if (options.configure === undefined) {
    try {
      return KernelSocket.openShared(host, options.port, { scale: deps.clock });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) {
        throw e;
      }
      deps.log.log("warning", `NTP server socket not shared with Deno (${String(e)})`);
    }
  }
  return KernelSocket.open(host, options.port, { scale: deps.clock, configure: options.configure });
}

/**
 * The kernel-timestamp loop. A shared socket waits in Deno's event loop, which reads the
 * first datagram (its kernel receive time from SIOCGSTAMPNS); while more wait, they are
 * read in batches. Otherwise: wait until readable (poll() on the blocking pool), then read
 * the waiting datagrams in batches (recvmmsg, receive times cooked once per batch) and
 * answer them, until none waits or BATCHES_PER_WAKE batches were served; then wait again,
 * which lets the rest of the daemon run.
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
  replyGroup: number | undefined,
): Promise<void> {
  const batch = new CookedBatch(BATCH, MAX_REQUEST_LENGTH);
  const raw = batch.raw;
  const clientLog = deps.policy.clientLog;
  // The transmit time: CLOCK_REALTIME now, moved onto the cooked clock through the clocks
  // read for the batch (exact for the Linux driver, whose raw clock is CLOCK_REALTIME; the
  // null driver's virtual frequency over the batch's few hundred µs is below 0.1 µs).
  // A datagram read through Deno has its clocks in `one`, a batch's in `batch`.
  let txBatch = batch;
  const readTxTime = () => sock.cookedNowAfter(txBatch);
  // The engine cannot run during a batch: one reference state serves it all.
  let reference: ReferenceState | null = null;
  const batchReference = () => reference!;
  // Replies leave with one sendmmsg per batch, their transmit times restamped just before.
  const replies = new BatchedReplies(sock, replyGroup ?? DEFAULT_REPLY_GROUP);
  const datagram: Datagram = {
    data: new Uint8Array(0),
    from: { address: "", port: 0 },
    rx: batch.rx[0],
    localAddress: specificAddress(loop.socket.hostname),
  };
  // Interleaved mode: kernel transmit timestamps are turned on with the first reply saved.
  const txStore = clientLog?.txTimestamps ?? null;
  let txStamps = deps.peers?.interleaved === true && sock.enableTxFrames();
  const serve = (from: CookedBatch, i: number, sender: { address: string; port: number }) => {
    const kernelRx = from.kernelRx[i] === 1;
    if (kernelRx) io.kernelRxTimestamps++;
    datagram.from.address = sender.address;
    datagram.from.port = sender.port;
    datagram.rx = from.rx[i];
    const out = dispatchDatagram(loop.responder, datagram, deps, batchReference, readTxTime);
    if (out === null) return;
    if (Array.isArray(out)) {
      // Mode 6 fragments, sent at once.
      for (const f of out) {
        const sent = from === one ? sock.replyToOne(f) : sock.replyInBatch(from, i, f);
        if (!sent) countError(io, "sendErrors", "sendto failed", deps.log);
      }
      return;
    }
    const failed = from === one
      ? (sock.replyToOne(out, loop.responder.txFromClock ? one : undefined) ? 0 : 1)
      : replies.reply(from, i, out, loop.responder.txFromClock);
    if (failed === 0) {
      clientLog?.countTimestamps(kernelRx ? "kernel" : "daemon");
      // Transmit timestamps are wanted from the first reply saved for interleaved mode.
      if (!txStamps && loop.responder.savedRxKey !== null && txStore !== null) {
        txStamps = sock.enableTxFrames();
      }
    } else {countError(
        io,
        "sendErrors",
        from === one ? "sendto failed" : "sendmmsg failed",
        deps.log,
      );}
  };
  const sender = { address: "", port: 0 };
  // One datagram read through Deno (a shared socket): its receive time in slot 0.
  const one = new CookedBatch(1, 1);
  // The last wake-up served a full batch's worth or more (a saturated server): wait with
  // poll() on the blocking pool, whose slower wake-up lets the next batch fill (measured:
  // more requests per second and less CPU per request than waking through Deno then).
  let busy = false;
  while (!loop.closed) {
    let more = true;
    if (sock.receivesThroughDeno && !busy) {
      let d: SharedDatagram | null;
      try {
        d = await sock.receiveOne(one);
      } catch (e) {
        countError(io, "receiveErrors", e, deps.log);
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (d === null || loop.closed) break;
      datagram.data = d.data;
      reference = deps.reference();
      txBatch = one;
      serve(one, 0, d);
      txBatch = batch;
      more = sock.hasWaiting();
    } else if (!await sock.waitReadable()) break;
    let served = 0;
    for (let round = 0; more && round < BATCHES_PER_WAKE && !loop.closed; round++) {
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
      served += n;
      reference = deps.reference();
      for (let i = 0; i < n; i++) {
        sender.address = raw.senderAddress(i);
        sender.port = raw.senderPort(i);
        datagram.data = raw.data(i);
        serve(batch, i, sender);
      }
      if (replies.flush(batch) > 0) countError(io, "sendErrors", "sendmmsg failed", deps.log);
    }
    busy = served >= BATCH;
  }
}
