/**
 * The NTP server edge: binds UDP sockets (port 123 by default), takes the receive time of
 * each datagram, has it handled (src/io/server_dispatch.ts: mode 6, symmetric peers,
 * broadcasts, the pure responder of src/core/server.ts) and sends the answer. One reused
 * receive buffer and one responder (with its reused reply buffer) per socket. Nothing read
 * from the network can throw out of the loop.
 *
 * Two socket backends:
 * - "kernel" (Linux, needs FFI permission; src/io/server_kernel_loop.ts): the
 *   kernel-timestamp socket adapter (src/io/kernel_socket.ts). The receive time is the
 *   kernel's arrival timestamp cooked by the adapter's one rule (src/io/kernel_timestamps.ts),
 *   so event-loop latency does not bias clients; replies leave in groups with one sendmmsg,
 *   their transmit times written just before it (src/io/batched_replies.ts). The socket is
 *   opened by Deno and shared (its descriptor found by address), so an idle server is woken
 *   by Deno's own event loop, not by a poll() on the blocking pool.
 * - "daemon" (src/io/server_deno_loop.ts): Deno.listenDatagram; the cooked clock is read as
 *   soon as the datagram reaches JavaScript (late by the event loop's wake-up latency, tens
 *   to hundreds of µs when busy).
 * "auto" (the default) picks "kernel" when it is available.
 *
 * Needs `--unstable-net` (deno.json sets it) and net permission.
 *
 * @module
 */
import { addResponderStats, emptyResponderStats } from "../core/server.ts";
import { kernelSocketsAvailable } from "./kernel_socket.ts";
import { countError, emptyIoCounters, type NtpServerStats } from "./server_counters.ts";
import type { NtpServerDeps } from "./server_dispatch.ts";
import { openDenoLoops } from "./server_deno_loop.ts";
import { type KernelLoopOptions, openKernelLoops } from "./server_kernel_loop.ts";
import type { SocketLoop } from "./server_loop.ts";
import { bestEffort } from "../base/errors.ts";

/** Where to listen. */
export interface NtpServerOptions extends KernelLoopOptions {
  /** Socket backend: "auto" (default: kernel when available), "kernel" or "daemon". */
  timestamping?: "auto" | "kernel" | "daemon";
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
  const io = emptyIoCounters();
  const clock = deps.clock;
  const readCookedTime = () => clock.cook(clock.rawNow());
  let loops: SocketLoop[];
  try {
    if (kernel) {
      loops = openKernelLoops(options, deps, io, readCookedTime);
    } else {
      if (options.configure !== undefined) {
        throw new Error("broadcast and multicast need kernel sockets (FFI)");
      }
      loops = openDenoLoops(options.hosts, options.port, deps, io, readCookedTime);
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
        bestEffort(() => l.socket.close());
      }
      await Promise.all(loops.map((l) => l.done));
    },
  });
}
