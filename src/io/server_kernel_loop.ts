/**
 * The NTP server's "kernel" backend (Linux, needs FFI permission): sockets of the
 * kernel-timestamp adapter (src/io/kernel_socket.ts), datagrams read in batches with their
 * kernel arrival times cooked once per batch, replies sent in groups with one sendmmsg
 * (src/io/batched_replies.ts), and kernel transmit timestamps for interleaved mode.
 *
 * @module
 */
import type { Instant } from "../base/time.ts";
import { NtpResponder } from "../core/server.ts";
import type { ReferenceState } from "../core/types.ts";
import { BatchedReplies, DEFAULT_REPLY_GROUP } from "./batched_replies.ts";
import { CookedBatch, KernelSocket } from "./kernel_socket.ts";
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
  const socks = bindAll(
    options.hosts,
    (h) => KernelSocket.open(h, options.port, { scale: deps.clock, configure: options.configure }),
  );
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
 * The kernel-timestamp loop: wait until readable, then read the waiting datagrams in
 * batches (recvmmsg, receive times cooked once per batch) and answer them, until none waits
 * or BATCHES_PER_WAKE batches were served; then wait again, which lets the rest of the
 * daemon run.
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
  let txRead: Instant | null = null;
  const readTxTime = () => (txRead = sock.cookedNowAfter(batch));
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
      reference = deps.reference();
      for (let i = 0; i < n; i++) {
        const kernelRx = batch.kernelRx[i] === 1;
        if (kernelRx) io.kernelRxTimestamps++;
        datagram.from.address = raw.senderAddress(i);
        datagram.from.port = raw.senderPort(i);
        datagram.data = raw.data(i);
        datagram.rx = batch.rx[i];
        txRead = null;
        const out = dispatchDatagram(loop.responder, datagram, deps, batchReference, readTxTime);
        if (out === null) continue;
        if (Array.isArray(out)) {
          // Mode 6 fragments, sent at once.
          for (const f of out) {
            if (!sock.replyInBatch(batch, i, f)) {
              countError(io, "sendErrors", "sendto failed", deps.log);
            }
          }
          continue;
        }
        const failed = replies.reply(batch, i, out, txRead);
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
