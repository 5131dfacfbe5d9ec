/**
 * The daemon's `NtpTransport`: every request goes out from a fresh UDP socket bound to a
 * random port chosen by the kernel (RFC 9109), and the replies that come back to it from
 * the server's address are handed to the engine with the cooked receive time read at once.
 * The socket closes after the reply wait, so late or duplicate replies die with it.
 *
 * @module
 */
import type { LogPort, NtpTransport, SocketAddress } from "../core/ports.ts";
import type { Instant } from "../core/time.ts";

/** Where replies go: the engine's receiveReply. */
export type ReplySink = (requestId: number, packet: Uint8Array, rxCooked: Instant) => void;

/** Options of the client transport. */
export interface UdpClientTransportOptions {
  /** Delivers replies to the engine. */
  deliver: ReplySink;
  /** Reads the cooked clock (taken at once when a datagram arrives). */
  cookedNow: () => Instant;
  /** Log for socket errors. */
  log: LogPort;
  /** Seconds to keep the request socket open for replies (chrony: maxdelay + 4). */
  replyWaitSeconds?: number;
  /** Local port to send from (0 = a random port per request). */
  acquisitionPort?: number;
}

/** The largest NTP datagram we accept from a server. */
const MAX_REPLY = 1024;

/** Per-request UDP sockets for NTP client requests. */
export class UdpClientTransport implements NtpTransport {
  readonly #options: UdpClientTransportOptions;
  readonly #open = new Set<Deno.DatagramConn>();
  #closed = false;

  /** Creates the transport. */
  constructor(options: UdpClientTransportOptions) {
    this.#options = options;
  }

  /** Sends one request from a fresh socket; false when no socket could be opened. */
  send(requestId: number, to: SocketAddress, packet: Uint8Array): boolean {
    if (this.#closed) return false;
    const v6 = to.address.includes(":");
    let socket: Deno.DatagramConn;
    try {
      socket = Deno.listenDatagram({
        transport: "udp",
        hostname: v6 ? "::" : "0.0.0.0",
        port: this.#options.acquisitionPort ?? 0,
      });
    } catch (error) {
      this.#options.log.log("warning", `Could not open NTP client socket: ${describe(error)}`);
      return false;
    }
    this.#open.add(socket);
    void this.#exchange(socket, requestId, to, packet.slice());
    return true;
  }

  async #exchange(
    socket: Deno.DatagramConn,
    requestId: number,
    to: SocketAddress,
    packet: Uint8Array,
  ): Promise<void> {
    const waitMs = (this.#options.replyWaitSeconds ?? 7) * 1000;
    const timer = setTimeout(() => this.#close(socket), waitMs);
    try {
      await socket.send(packet, { transport: "udp", hostname: to.address, port: to.port });
      const buffer = new Uint8Array(MAX_REPLY);
      while (true) {
        const [data, from] = await socket.receive(buffer);
        const rxCooked = this.#options.cookedNow();
        if (from.transport !== "udp") continue;
        if (normalise(from.hostname) !== normalise(to.address) || from.port !== to.port) continue;
        this.#options.deliver(requestId, data.slice(), rxCooked);
      }
    } catch (error) {
      if (this.#open.has(socket) && !this.#closed) {
        this.#options.log.log(
          "debug",
          `NTP exchange with ${to.address}:${to.port} ended: ${describe(error)}`,
        );
      }
    } finally {
      clearTimeout(timer);
      this.#close(socket);
    }
  }

  #close(socket: Deno.DatagramConn): void {
    if (this.#open.delete(socket)) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }

  /** Closes every open request socket (shutdown). */
  close(): void {
    this.#closed = true;
    for (const socket of [...this.#open]) this.#close(socket);
  }

  /** Number of request sockets currently open. */
  get openSockets(): number {
    return this.#open.size;
  }
}

function normalise(address: string): string {
  const bare = address.startsWith("[") ? address.slice(1, -1) : address;
  return bare.startsWith("::ffff:") ? bare.slice(7) : bare.toLowerCase();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
