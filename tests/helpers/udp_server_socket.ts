/**
 * A bound UDP server socket for tests (fake NTP servers): bind host:port, iterate received
 * datagrams (one reused receive buffer; each yielded datagram is a copy), send replies.
 *
 * @module
 */
import type { SocketAddress } from "../../src/base/ports.ts";
import {
  type ClockFn,
  MAX_DATAGRAM,
  openUdp,
  type ReceivedDatagram,
  toSocketAddress,
} from "../../src/io/udp.ts";

/** A bound UDP server socket. */
export class UdpServerSocket {
  readonly #conn: Deno.DatagramConn;
  readonly #buffer: Uint8Array;
  #closed = false;

  private constructor(conn: Deno.DatagramConn, bufferSize: number) {
    this.#conn = conn;
    this.#buffer = new Uint8Array(bufferSize);
  }

  /** Binds `host:port` (port 0: the OS picks). Throws the OS error (EADDRINUSE, EACCES). */
  static bind(host: string, port: number, bufferSize = MAX_DATAGRAM): UdpServerSocket {
    return new UdpServerSocket(openUdp(host, port), bufferSize);
  }

  /** The bound address and port. */
  get localAddress(): SocketAddress {
    return toSocketAddress(this.#conn.addr);
  }

  /**
   * Yields received datagrams with their receive time from `clock`, until `close()`.
   * The receive buffer is reused; each yielded `data` is a copy.
   */
  async *datagrams(clock: ClockFn): AsyncGenerator<ReceivedDatagram> {
    while (!this.#closed) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await this.#conn.receive(this.#buffer);
      } catch (error) {
        if (this.#closed) return;
        // ICMP errors from earlier sends surface here on Linux; keep serving.
        if (error instanceof Deno.errors.ConnectionRefused) continue;
        if (error instanceof Deno.errors.BadResource) return;
        throw error;
      }
      const receivedAt = clock();
      yield { data: received[0].slice(), from: toSocketAddress(received[1]), receivedAt };
    }
  }

  /** Sends `data` to `to`; returns false (never throws) when the send failed. */
  async send(data: Uint8Array, to: SocketAddress): Promise<boolean> {
    try {
      await this.#conn.send(data, { transport: "udp", hostname: to.address, port: to.port });
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the socket; a pending `datagrams` iteration ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
