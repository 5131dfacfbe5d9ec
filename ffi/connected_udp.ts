/**
 * A connected UDP socket, as chronyc uses for the command port: only a connected socket
 * hears the ICMP "port unreachable" of a host where no daemon listens (recv fails with
 * ECONNREFUSED at once), so a client gives up on a dead daemon in milliseconds instead of
 * waiting out its timeouts. Non-blocking; waiting is poll(2) on a worker thread.
 * Needs unscoped --allow-ffi (or -A).
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { lastErrno, pollReadableAsync } from "./libc.ts";
import { readSockaddr, writeSockaddr } from "./sockaddr.ts";

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EAGAIN = 11;
const EINTR = 4;

let symbols: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;
function lib() {
  if (symbols === null) symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return symbols;
}

/** What a receive gave: a datagram, nothing before the deadline, or a socket error. */
export type ConnectedReceive =
  | { kind: "data"; data: Uint8Array }
  | { kind: "timeout" }
  | { kind: "error"; error: ErrnoError };

/** A non-blocking UDP socket connected to one address. */
export class ConnectedUdpSocket {
  #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Opens a socket connected to `addr` (4 or 16 address bytes) and `port`. Throws. */
  static connect(addr: Uint8Array, port: number): ConnectedUdpSocket {
    const family = addr.length === 4 ? AF_INET : AF_INET6;
    const c = lib();
    const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new ErrnoError("socket", lastErrno());
    const sa = new Uint8Array(28);
    const len = writeSockaddr(new DataView(sa.buffer), family, addr, port);
    if (c.connect(fd, sa, len) < 0) {
      const e = lastErrno();
      c.close(fd);
      throw new ErrnoError("connect", e);
    }
    return new ConnectedUdpSocket(fd);
  }

  /** Sends one datagram; throws an ErrnoError (ECONNREFUSED after an ICMP error...). */
  send(packet: Uint8Array): void {
    if (this.#fd < 0) throw new ErrnoError("send", 9);
    const n = lib().send(this.#fd, packet as Uint8Array<ArrayBuffer>, BigInt(packet.length), 0);
    if (n < 0) throw new ErrnoError("send", lastErrno());
  }

  /** Waits up to `timeoutMs` for a datagram (or the error an ICMP message left). */
  async receive(timeoutMs: number, maxLength = 2048): Promise<ConnectedReceive> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    const buf = new Uint8Array(maxLength);
    while (this.#fd >= 0) {
      const n = Number(lib().recv(this.#fd, buf, BigInt(buf.length), 0));
      if (n >= 0) return { kind: "data", data: buf.slice(0, n) };
      const e = lastErrno();
      if (e !== EAGAIN && e !== EINTR) return { kind: "error", error: new ErrnoError("recv", e) };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: "timeout" };
      const fd = this.#fd;
      const readable = await pollReadableAsync(fd, Math.min(left, 1000));
      // poll reports a pending socket error without POLLIN: the recv above then reads it.
      if (!readable && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    }
    return { kind: "error", error: new ErrnoError("recv", 9) };
  }

  /**
   * The local address the kernel chose for this destination (getsockname after connect):
   * the address its datagrams leave from and its replies arrive at. Throws.
   */
  localAddress(): string {
    const sa = new Uint8Array(28);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, sa.length, true);
    if (lib().getsockname(this.#fd, sa, len) < 0) {
      throw new ErrnoError("getsockname", lastErrno());
    }
    return readSockaddr(new DataView(sa.buffer), sa).hostname;
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#fd >= 0) lib().close(this.#fd);
    this.#fd = -1;
  }
}
