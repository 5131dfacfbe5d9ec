/**
 * The NTP client transport with kernel timestamps: each request goes out from a fresh
 * kernel-timestamp socket (src/io/kernel_socket.ts) bound to a random port (RFC 9109), and
 * each reply comes with the kernel's receive timestamp instead of the time the event loop
 * got round to it; with `onTransmitted` the kernel's transmit timestamp of the request
 * replaces the time the engine read before building it. Both are cooked by the adapter's
 * one rule (src/io/kernel_timestamps.ts) onto the engine's clock.
 *
 * A fresh socket is opened ahead of each request (one spare per address family), so
 * between the engine reading its transmit time and the datagram leaving there is only the
 * sendto call, not the socket, setsockopt and bind calls.
 *
 * When to send, when to start waiting for the reply and when to open the next spare socket
 * is decided by the `timing` policy passed in (src/core/client_send_timing.ts, which says
 * why); this module only executes it: with kernel transmit timestamps, sendto runs as a
 * microtask once the engine's timer callback is done, followed only by reading the
 * transmit timestamp.
 *
 * @module
 */
import type { LogPort, NtpTransport, SocketAddress } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import {
  type ClientSendTiming,
  replyWaitDelayMs,
  sendRecordMatters,
} from "../core/client_send_timing.ts";
import { sameIpAddress } from "../base/ip.ts";
import { KernelSocket } from "./kernel_socket.ts";
import type { TimeScale } from "./kernel_timestamps.ts";
import { errorMessage } from "../base/errors.ts";

/** Options of the kernel-timestamping client transport. */
export interface KernelClientTransportOptions {
  /**
   * The engine's clock (its `LocalClock`: `rawNow` and `cook`), onto which every kernel
   * timestamp is cooked.
   */
  clock: TimeScale;
  /** Delivers a reply with its cooked receive time (normally engine.receiveReply). */
  deliver: (requestId: number, packet: Uint8Array, rxCooked: Instant, rxKernel: boolean) => void;
  /** Seconds a request socket waits for replies. */
  replyWaitSeconds: number;
  /** When to send, wait and open the next socket (DEFAULT_CLIENT_SEND_TIMING in core). */
  timing: ClientSendTiming;
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
  /** bindacqaddress: the local address of requests, per family (default the wildcard). */
  bindAddress?: { v4: string | null; v6: string | null };
  /** Sets options on each new socket before bind (bindacqdevice, dscp). */
  configureSocket?: (fd: number, family: number) => void;
}

/** Per-request libc UDP sockets with kernel receive timestamps. */
export class KernelClientTransport implements NtpTransport {
  readonly #options: KernelClientTransportOptions;
  readonly #open = new Set<KernelSocket>();
  readonly #spare = new Map<string, KernelSocket>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  /** The newest request per server (address|port): its socket and performance.now(). */
  readonly #newest = new Map<string, { socket: KernelSocket; sentAt: number }>();
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
    const timing = this.#options.timing;
    const acq = this.#options.bindAddress;
    const bind = to.address.includes(":") ? acq?.v6 ?? "::" : acq?.v4 ?? "0.0.0.0";
    const socket = this.#takeSocket(bind);
    if (socket === null) return false;
    const key = `${to.address}|${to.port}`;
    const now = performance.now();
    const previous = this.#newest.get(key);
    if (previous !== undefined && timing.endPreviousWait) this.#close(previous.socket);
    const waitDelay = replyWaitDelayMs(
      timing,
      previous === undefined ? null : now - previous.sentAt,
    );
    this.#newest.set(key, { socket, sentAt: now });
    if (this.#newest.size > 256) {
      for (const [k, n] of this.#newest) {
        const old = !sendRecordMatters(timing, now - n.sentAt);
        if (k !== key && old && !this.#open.has(n.socket)) this.#newest.delete(k);
      }
    }
    if (this.#options.onTransmitted === undefined) {
      if (socket.send(packet, to.address, to.port) !== null) {
        socket.close();
        return false;
      }
      this.#open.add(socket);
      void this.#collect(socket, requestId, to);
      this.#refillSpare(bind);
      return true;
    }
    this.#open.add(socket);
    queueMicrotask(() => {
      if (this.#closed || !this.#open.has(socket)) return;
      const sent = socket.sendStamped(packet, to.address, to.port);
      if (sent.error !== null) {
        this.#close(socket);
        this.#options.onSendFailed?.(requestId);
        return;
      }
      if (sent.tx !== null) this.#options.onTransmitted?.(requestId, sent.tx);
      // No timestamp yet: the datagram waits in a kernel queue; it comes before the reply.
      const lateTx = sent.tx === null;
      if (waitDelay <= 0) void this.#collect(socket, requestId, to, lateTx);
      else this.#later(waitDelay, () => void this.#collect(socket, requestId, to, lateTx));
      this.#later(timing.spareRefillMs, () => this.#refillSpare(bind));
    });
    return true;
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

  #takeSocket(bind: string): KernelSocket | null {
    const spare = this.#spare.get(bind);
    if (spare !== undefined) {
      this.#spare.delete(bind);
      return spare;
    }
    return this.#openSocket(bind);
  }

  #openSocket(bind: string): KernelSocket | null {
    try {
      return KernelSocket.open(bind, 0, {
        scale: this.#options.clock,
        maxLength: 1024,
        txTimestamps: this.#options.onTransmitted !== undefined,
        configure: this.#options.configureSocket,
      });
    } catch (error) {
      this.#options.log.log("warning", `Could not open NTP client socket: ${errorMessage(error)}`);
      return null;
    }
  }

  async #collect(socket: KernelSocket, requestId: number, to: SocketAddress, lateTx = false) {
    const timer = setTimeout(() => this.#close(socket), this.#options.replyWaitSeconds * 1000);
    let txPending = lateTx;
    try {
      while (await socket.waitReadable()) {
        if (txPending) {
          // A transmit timestamp that came late (before any reply: it is queued at xmit).
          const tx = socket.lateTx();
          if (tx !== null) {
            txPending = false;
            this.#options.onTransmitted?.(requestId, tx);
          }
        }
        for (;;) {
          const datagram = socket.receive();
          if (datagram === null) break;
          if (datagram.port !== to.port || !sameIpAddress(datagram.address, to.address)) continue;
          this.#options.deliver(requestId, datagram.data.slice(), datagram.rx, datagram.kernelRx);
        }
      }
    } catch (error) {
      if (!this.#closed) {
        this.#options.log.log(
          "debug",
          `NTP exchange with ${to.address} ended: ${errorMessage(error)}`,
        );
      }
    } finally {
      clearTimeout(timer);
      this.#close(socket);
    }
  }

  #close(socket: KernelSocket): void {
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
    this.#newest.clear();
  }

  /** Request sockets currently open. */
  get openSockets(): number {
    return this.#open.size;
  }
}
