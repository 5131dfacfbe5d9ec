/**
 * The NTP client transport with kernel timestamps: each request goes out from a fresh
 * libc socket bound to a random port (RFC 9109), sent synchronously right after the engine
 * read its transmit time, and each reply comes with the kernel's receive timestamp
 * (SO_TIMESTAMPNS) instead of the time the event loop got round to it. That removes the
 * event-loop latency from both ends of the client's measurement.
 *
 * A fresh socket is opened ahead of each request (one spare per address family), so
 * between the engine reading its transmit time and the datagram leaving there is only the
 * sendto call, not the socket, setsockopt and bind calls.
 *
 * With kernel transmit timestamps (`onTransmitted`) the process goes idle right after the
 * datagram left: sendto runs as a microtask once the engine's timer callback is done, and the
 * transmit timestamp, the reply wait and the next spare socket come a few milliseconds
 * later (the reply waits in the socket buffer with its kernel timestamp). Linux wakes the
 * receiver of a loopback or veth datagram on the sender's CPU; a sender that kept running
 * there delayed the forwarding of every request (relay up-direction median 1.6 ms against
 * chronyd's 0.8 ms through the same relay, a 0.4 ms offset bias).
 *
 * Kernel timestamps are on CLOCK_REALTIME; the engine wants cooked time, so the difference
 * between the cooked clock and CLOCK_REALTIME (which changes only at ppm rates) is read at
 * delivery and added.
 *
 * @module
 */
import type { LogPort, NtpTransport, SocketAddress } from "../core/ports.ts";
import type { Instant } from "../core/time.ts";
import { sameIpAddress } from "../ntp/ip.ts";
import {
  IDLE_AFTER_SEND_MS,
  KernelTimestampSocket,
  kernelTimestampSocketsAvailable,
} from "../../ffi/udp_socket.ts";

/** Options of the kernel-timestamping client transport. */
export interface KernelClientTransportOptions {
  /** Reads the cooked clock. */
  cookedNow: () => Instant;
  /** Delivers a reply with its cooked receive time (normally engine.receiveReply). */
  deliver: (requestId: number, packet: Uint8Array, rxCooked: Instant) => void;
  /** Seconds a request socket waits for replies. */
  replyWaitSeconds: number;
  /** Log for socket failures. */
  log: LogPort;
  /**
   * Receives the kernel's transmit timestamp of a request, cooked, right after it was sent
   * (normally engine.transmitted): the time the datagram really left, not the time the
   * engine read before building it.
   */
  onTransmitted?: (requestId: number, txCooked: Instant) => void;
  /**
   * Told when a deferred send failed after `send` had returned true (normally
   * engine.sendFailed), so auto_offline still sees the failure.
   */
  onSendFailed?: (requestId: number) => void;
}

/** Milliseconds after a deferred send before the next spare socket is opened. */
const SPARE_REFILL_MS = 100;

/** True when kernel-timestamping client sockets can be used here. */
export function kernelClientTransportAvailable(): boolean {
  return kernelTimestampSocketsAvailable();
}

/** Per-request libc UDP sockets with kernel receive timestamps. */
export class KernelClientTransport implements NtpTransport {
  readonly #options: KernelClientTransportOptions;
  readonly #open = new Set<KernelTimestampSocket>();
  readonly #spare = new Map<string, KernelTimestampSocket>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  /** Creates the transport. */
  constructor(options: KernelClientTransportOptions) {
    this.#options = options;
  }

  /**
   * Sends one request from a fresh socket; false when it could not be sent. With kernel
   * transmit timestamps the datagram leaves in a microtask (see the module comment) and a
   * failure then goes to `onSendFailed`.
   */
  send(requestId: number, to: SocketAddress, packet: Uint8Array): boolean {
    if (this.#closed) return false;
    const bind = to.address.includes(":") ? "::" : "0.0.0.0";
    const socket = this.#takeSocket(bind);
    if (socket === null) return false;
    if (this.#options.onTransmitted === undefined) {
      if (!socket.send(packet, to.address, to.port)) {
        socket.close();
        return false;
      }
      this.#afterSend(socket, requestId, to, bind);
      return true;
    }
    this.#open.add(socket);
    queueMicrotask(() => {
      if (this.#closed || !this.#open.has(socket)) return;
      if (!socket.send(packet, to.address, to.port)) {
        this.#close(socket);
        this.#options.onSendFailed?.(requestId);
        return;
      }
      // Cooked minus CLOCK_REALTIME at the moment of sending, for the transmit timestamp.
      const toCooked = this.#options.cookedNow() - socket.realtimeNow();
      this.#later(IDLE_AFTER_SEND_MS, () => this.#afterSend(socket, requestId, to, null, toCooked));
      this.#later(SPARE_REFILL_MS, () => this.#refillSpare(bind));
    });
    return true;
  }

  /** Reads the transmit timestamp and starts waiting for replies; refills the spare. */
  #afterSend(
    socket: KernelTimestampSocket,
    requestId: number,
    to: SocketAddress,
    refill: string | null,
    toCooked: bigint | null = null,
  ): void {
    const txRaw = socket.readTxTimestamp();
    if (txRaw !== null && this.#options.onTransmitted) {
      this.#options.onTransmitted(
        requestId,
        txRaw + (toCooked ?? this.#options.cookedNow() - socket.realtimeNow()),
      );
    }
    this.#open.add(socket);
    void this.#collect(socket, requestId, to);
    if (refill !== null) this.#refillSpare(refill);
  }

  #refillSpare(bind: string): void {
    if (this.#closed || this.#spare.has(bind)) return;
    const next = this.#openSocket(bind);
    if (next !== null) this.#spare.set(bind, next);
  }

  #later(ms: number, fn: () => void): void {
    const id = setTimeout(() => {
      this.#timers.delete(id);
      if (!this.#closed) fn();
    }, ms);
    this.#timers.add(id);
  }

  #takeSocket(bind: string): KernelTimestampSocket | null {
    const spare = this.#spare.get(bind);
    if (spare !== undefined) {
      this.#spare.delete(bind);
      return spare;
    }
    return this.#openSocket(bind);
  }

  #openSocket(bind: string): KernelTimestampSocket | null {
    try {
      const socket = KernelTimestampSocket.open(bind, 0, 1024);
      if (this.#options.onTransmitted) socket.enableTxTimestamps();
      return socket;
    } catch (error) {
      this.#options.log.log("warning", `Could not open NTP client socket: ${describe(error)}`);
      return null;
    }
  }

  async #collect(socket: KernelTimestampSocket, requestId: number, to: SocketAddress) {
    const timer = setTimeout(() => this.#close(socket), this.#options.replyWaitSeconds * 1000);
    try {
      while (await socket.waitReadable()) {
        for (;;) {
          const datagram = socket.receive();
          if (datagram === null) break;
          if (datagram.port !== to.port || !sameIpAddress(datagram.address, to.address)) continue;
          const cooked = this.#options.cookedNow();
          const realtime = socket.realtimeNow();
          const rx = datagram.kernelRxRaw === null
            ? cooked
            : datagram.kernelRxRaw + (cooked - realtime);
          this.#options.deliver(requestId, datagram.data.slice(), rx);
        }
      }
    } catch (error) {
      if (!this.#closed) {
        this.#options.log.log("debug", `NTP exchange with ${to.address} ended: ${describe(error)}`);
      }
    } finally {
      clearTimeout(timer);
      this.#close(socket);
    }
  }

  #close(socket: KernelTimestampSocket): void {
    if (this.#open.delete(socket)) socket.close();
  }

  /** Closes every request socket (shutdown). */
  close(): void {
    this.#closed = true;
    for (const id of this.#timers) clearTimeout(id);
    this.#timers.clear();
    for (const socket of [...this.#open]) this.#close(socket);
    for (const socket of this.#spare.values()) socket.close();
    this.#spare.clear();
  }

  /** Request sockets currently open. */
  get openSockets(): number {
    return this.#open.size;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
