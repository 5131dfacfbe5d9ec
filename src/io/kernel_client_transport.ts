/**
 * The NTP client transport with kernel timestamps: each request goes out from a fresh
 * libc socket bound to a random port (RFC 9109), and each reply comes with the kernel's
 * receive timestamp (SO_TIMESTAMPNS) instead of the time the event loop got round to it;
 * with `onTransmitted` the kernel's transmit timestamp of the request replaces the time the
 * engine read before building it. That removes the event-loop latency from both ends of the
 * client's measurement.
 *
 * A fresh socket is opened ahead of each request (one spare per address family), so
 * between the engine reading its transmit time and the datagram leaving there is only the
 * sendto call, not the socket, setsockopt and bind calls.
 *
 * With kernel transmit timestamps the process goes idle as soon as the datagram has left:
 * sendto runs as a microtask once the engine's timer callback is done, followed only by
 * reading the transmit timestamp; the wait for the reply starts 3 ms later (at once when
 * requests to the server are less than 100 ms apart) and the next spare socket is opened
 * 100 ms later. Linux wakes the receiver of a loopback or veth datagram on the sender's CPU;
 * a sender that kept working there delayed the forwarding of every request (through a
 * user-space relay: up-direction median 1.6 ms against chronyd's 0.8 ms, a 0.4 ms offset bias;
 * docs/realtime.md). Starting the reply wait before sending was tried: its thread wake-up
 * made it worse (1.28 ms).
 *
 * Kernel timestamps are on CLOCK_REALTIME. With `rawNow` and `cookRaw` (the engine's clock)
 * they are moved onto the driver's raw scale with the difference read now and cooked at their
 * own instant, so a slew in progress is accounted for exactly; otherwise the difference between
 * the cooked clock and CLOCK_REALTIME read now is added.
 *
 * @module
 */
import type { LogPort, NtpTransport, SocketAddress } from "../core/ports.ts";
import type { Instant } from "../core/time.ts";
import { sameIpAddress } from "../ntp/ip.ts";
import { KernelTimestampSocket, kernelTimestampSocketsAvailable } from "../../ffi/udp_socket.ts";

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
  /** The driver's raw clock now (engine.clock.rawNow), for exact timestamp conversion. */
  rawNow?: () => Instant;
  /** Cooked time of a raw instant (engine.clock.cook), for exact timestamp conversion. */
  cookRaw?: (raw: Instant) => Instant;
  /** bindacqaddress: the local address of requests, per family (default the wildcard). */
  bindAddress?: { v4: string | null; v6: string | null };
  /** Sets options on each new socket before bind (bindacqdevice, dscp). */
  configureSocket?: (fd: number, family: number) => void;
}

/** Milliseconds after a deferred send before the next spare socket is opened. */
const SPARE_REFILL_MS = 100;
/** Milliseconds the process stays idle after a request left before it waits for the reply. */
const IDLE_AFTER_SEND_MS = 3;
/** Requests to one server closer than this (ms) are answered without the idle delay. */
const FREQUENT_SEND_MS = 100;

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
  /** The newest request per server (address|port): its socket and performance.now(). */
  readonly #newest = new Map<string, { socket: KernelTimestampSocket; sentAt: number }>();
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
    const acq = this.#options.bindAddress;
    const bind = to.address.includes(":") ? acq?.v6 ?? "::" : acq?.v4 ?? "0.0.0.0";
    const socket = this.#takeSocket(bind);
    if (socket === null) return false;
    // A new request to a server ends the wait for replies to the previous one (chrony closes
    // the previous client socket too): at most one socket, and one blocking-pool poll, per
    // server, even polling 128 times a second with a 7-s reply wait.
    const key = `${to.address}|${to.port}`;
    const now = performance.now();
    const previous = this.#newest.get(key);
    if (previous !== undefined) this.#close(previous.socket);
    const frequent = previous !== undefined && now - previous.sentAt < FREQUENT_SEND_MS;
    this.#newest.set(key, { socket, sentAt: now });
    if (this.#newest.size > 256) {
      for (const [k, n] of this.#newest) {
        const old = now - n.sentAt >= FREQUENT_SEND_MS;
        if (k !== key && old && !this.#open.has(n.socket)) this.#newest.delete(k);
      }
    }
    if (this.#options.onTransmitted === undefined) {
      if (!socket.send(packet, to.address, to.port)) {
        socket.close();
        return false;
      }
      this.#open.add(socket);
      void this.#collect(socket, requestId, to);
      this.#refillSpare(bind);
      return true;
    }
    // Send at the end of this turn and do next to nothing after it: the reply wait starts
    // IDLE_AFTER_SEND_MS later (the reply waits in the socket with its kernel timestamp),
    // unless requests to this server follow each other closely (sub-second polling, bursts),
    // when the reply must be processed before the next request goes out.
    this.#open.add(socket);
    queueMicrotask(() => {
      if (this.#closed || !this.#open.has(socket)) return;
      if (!socket.send(packet, to.address, to.port)) {
        this.#close(socket);
        this.#options.onSendFailed?.(requestId);
        return;
      }
      const txRaw = socket.readTxTimestamp();
      if (txRaw !== null) this.#options.onTransmitted?.(requestId, this.#cook(txRaw, socket));
      if (frequent) void this.#collect(socket, requestId, to);
      else this.#later(IDLE_AFTER_SEND_MS, () => void this.#collect(socket, requestId, to));
      this.#later(SPARE_REFILL_MS, () => this.#refillSpare(bind));
    });
    return true;
  }

  /** Cooked time of a kernel (CLOCK_REALTIME) timestamp. */
  #cook(kernel: Instant, socket: KernelTimestampSocket): Instant {
    const { rawNow, cookRaw, cookedNow } = this.#options;
    if (rawNow !== undefined && cookRaw !== undefined) {
      return cookRaw(kernel + (rawNow() - socket.realtimeNow()));
    }
    return kernel + (cookedNow() - socket.realtimeNow());
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
      const socket = KernelTimestampSocket.open(bind, 0, 1024, this.#options.configureSocket);
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
          const rx = datagram.kernelRxRaw === null
            ? this.#options.cookedNow()
            : this.#cook(datagram.kernelRxRaw, socket);
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
    this.#newest.clear();
  }

  /** Request sockets currently open. */
  get openSockets(): number {
    return this.#open.size;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
