/**
 * The UDP edge: thin wrappers over `Deno.listenDatagram` holding no NTP policy.
 *
 * - `exchange`: one client request on a fresh socket bound to port 0 (a random ephemeral
 *   source port per request, RFC 9109), reading the receive time from the given clock at
 *   once when each datagram arrives, with a timeout.
 * - `UdpClientTransport`: the engine's `NtpTransport` built on `exchange`.
 *
 * Needs `--unstable-net` (deno.json sets it) and net permission.
 *
 * @module
 */
import type { NtpTransport, SocketAddress } from "../base/ports.ts";
import type { Instant } from "../base/time.ts";
import { ipFamily, sameIpAddress } from "../base/ip.ts";
import { bestEffort, errorMessage } from "../base/errors.ts";

/** A clock read at the edge (the daemon passes its cooked clock, the CLI the raw clock). */
export type ClockFn = () => Instant;

/** Largest datagram we read (NTP with extension fields stays far below). */
export const MAX_DATAGRAM = 2048;

/** One received datagram with its arrival time. */
export interface ReceivedDatagram {
  /** The datagram's bytes (a private copy). */
  data: Uint8Array;
  /** Sender address and port. */
  from: SocketAddress;
  /** Clock reading taken as soon as the datagram was handed to us. */
  receivedAt: Instant;
}

/** Options of `exchange`. */
export interface ExchangeOptions {
  /** Clock used for the send and receive times. */
  clock: ClockFn;
  /** How long to wait for a reply, milliseconds. */
  timeoutMs: number;
  /**
   * Called for each datagram from the server with the request's send time; return true to
   * end the exchange (default: the first datagram ends it). Datagrams from other addresses
   * or ports are never kept.
   */
  accept?: (datagram: ReceivedDatagram, sentAt: Instant) => boolean;
  /** Local address to bind (default: the wildcard of the server's family). */
  bindAddress?: string;
  /** A socket already opened with `openClientSocket` (it is closed when the exchange ends). */
  socket?: Deno.DatagramConn;
}

/** What `exchange` saw. */
export interface ExchangeResult {
  /** Clock reading taken just before the request was handed to the kernel. */
  sentAt: Instant;
  /** Local port the request was sent from. */
  localPort: number;
  /** Datagrams received from the server (in order), the accepted one last if any. */
  replies: ReceivedDatagram[];
  /** True when `accept` returned true before the timeout. */
  accepted: boolean;
  /** Set when sending failed at once (no route, bad address): the error message. */
  sendError: string | null;
}

/** A Deno address as a SocketAddress (empty for a Unix one). */
export function toSocketAddress(addr: Deno.Addr): SocketAddress {
  if (addr.transport === "udp" || addr.transport === "tcp") {
    return { address: addr.hostname, port: addr.port };
  }
  return { address: "", port: 0 };
}

/** Opens a UDP socket on `hostname:port` ("0.0.0.0" / "::" wildcards; port 0: any). */
export function openUdp(hostname: string, port: number): Deno.DatagramConn {
  if (typeof Deno.listenDatagram !== "function") {
    throw new Error(
      "UDP sockets need deno's --unstable-net flag (run: deno run -A --unstable-net)",
    );
  }
  return Deno.listenDatagram({ hostname, port, transport: "udp" });
}

/**
 * Opens a client socket on a random ephemeral port, in the family of `to` (bound to the
 * wildcard address unless `bindAddress` is given). Throws the OS error.
 */
export function openClientSocket(to: SocketAddress, bindAddress?: string): Deno.DatagramConn {
  const family = ipFamily(to.address);
  return openUdp(bindAddress ?? (family === 6 ? "::" : "0.0.0.0"), 0);
}

/**
 * Sends one request to `to` from a fresh socket with a random source port and collects the
 * replies until `accept` says done or the timeout passes. Never throws for network errors:
 * a failed send is reported in `sendError`; binding errors (no permission) do throw.
 */
export async function exchange(
  to: SocketAddress,
  request: Uint8Array,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const conn = options.socket ?? openClientSocket(to, options.bindAddress);
  const localPort = toSocketAddress(conn.addr).port;
  const replies: ReceivedDatagram[] = [];
  const accept = options.accept ?? (() => true);
  let accepted = false;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    bestEffort(() => conn.close());
  }, Math.max(0, options.timeoutMs));
  const buffer = new Uint8Array(MAX_DATAGRAM);
  let sentAt: Instant = options.clock();
  let sendError: string | null = null;
  try {
    sentAt = options.clock();
    await conn.send(request, { transport: "udp", hostname: to.address, port: to.port });
  } catch (error) {
    sendError = errorMessage(error);
  }
  try {
    while (sendError === null && !timedOut) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await conn.receive(buffer);
      } catch (error) {
        // Closed by the timer, or an ICMP error (port unreachable) reported on the socket.
        if (!timedOut) sendError = errorMessage(error);
        break;
      }
      const receivedAt = options.clock();
      const from = toSocketAddress(received[1]);
      if (from.port !== to.port || !sameIpAddress(from.address, to.address)) continue;
      const datagram = { data: received[0].slice(), from, receivedAt };
      replies.push(datagram);
      if (accept(datagram, sentAt)) {
        accepted = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    bestEffort(() => conn.close());
  }
  return { sentAt, localPort, replies, accepted, sendError };
}

/** A client exchange implementation (`exchange` here, `kernelExchange` in src/sync/kernel_udp.ts). */
export type ExchangeFn = typeof exchange;

/**
 * The engine's transport over real UDP: each `send` runs an `exchange` in the background and
 * hands every reply to `onReply` with its receive time. Replies that arrive after
 * `timeoutMs` are dropped (the engine treats the request as lost).
 */
export class UdpClientTransport implements NtpTransport {
  readonly #clock: ClockFn;
  readonly #timeoutMs: number;
  readonly #onReply: (requestId: number, packet: Uint8Array, receivedAt: Instant) => void;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #exchange: ExchangeFn | null;

  /**
   * Creates the transport; `onReply` is normally `engine.receiveReply`. `exchangeFn`
   * replaces the Deno-socket exchange, e.g. with `bestExchange` from src/sync/burst.ts
   * (kernel receive timestamps); it must open its own socket per call.
   */
  constructor(
    clock: ClockFn,
    onReply: (requestId: number, packet: Uint8Array, receivedAt: Instant) => void,
    timeoutMs = 4000,
    exchangeFn: ExchangeFn | null = null,
  ) {
    this.#clock = clock;
    this.#onReply = onReply;
    this.#timeoutMs = timeoutMs;
    this.#exchange = exchangeFn;
  }

  /**
   * Sends a request from a new socket on a random port; returns false when no socket could
   * be opened (a send error found later counts as a lost packet). Every datagram from the
   * server until the timeout goes to `onReply`, so the engine sees duplicates too.
   */
  send(requestId: number, to: SocketAddress, packet: Uint8Array): boolean {
    const options: ExchangeOptions = {
      clock: this.#clock,
      timeoutMs: this.#timeoutMs,
      accept: (d) => {
        this.#onReply(requestId, d.data, d.receivedAt);
        return false;
      },
    };
    if (this.#exchange === null) {
      try {
        options.socket = openClientSocket(to);
      } catch {
        return false;
      }
    }
    const task = (this.#exchange ?? exchange)(to, packet, options).catch(() => undefined);
    this.#pending.add(task);
    task.finally(() => this.#pending.delete(task));
    return true;
  }

  /** Resolves when every outstanding exchange has finished (for clean shutdown in tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
