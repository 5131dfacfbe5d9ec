/**
 * A UDP socket over libc with kernel receive timestamps (SO_TIMESTAMPNS): Deno's own
 * datagram API cannot report when a packet really arrived. Receiving is a nonblocking
 * poll() on a worker thread followed by a synchronous recvmsg(MSG_DONTWAIT), so errno stays
 * readable; sending is a synchronous sendto(), so a transmit timestamp taken just before it
 * is accurate. IPv4 only.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { closeFd, lastErrno, pollReadableAsync } from "./libc.ts";

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;

function sym(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
/** SO_TIMESTAMPNS (= SCM_TIMESTAMPNS) on Linux x86_64. */
export const SO_TIMESTAMPNS = 35;
const MSG_DONTWAIT = 0x40;

/** Encodes an IPv4 sockaddr_in (16 bytes). */
export function encodeSockaddrIn(address: string, port: number): Uint8Array {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) {
    throw new TypeError(`not an IPv4 address: ${address}`);
  }
  const buf = new Uint8Array(16);
  const v = new DataView(buf.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, port, false);
  buf.set(parts, 4);
  return buf;
}

/** Decodes a sockaddr_in into address and port. */
export function decodeSockaddrIn(buf: Uint8Array): { address: string; port: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { address: [...buf.subarray(4, 8)].join("."), port: v.getUint16(2, false) };
}

/**
 * Finds the SCM_TIMESTAMPNS control message in a cmsg buffer and returns its timestamp
 * (CLOCK_REALTIME ns), or null.
 */
export function findTimestampNs(control: Uint8Array, length: number): bigint | null {
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  let at = 0;
  while (at + 16 <= length) {
    const len = Number(v.getBigUint64(at, true));
    if (len < 16) return null;
    const level = v.getInt32(at + 8, true);
    const type = v.getInt32(at + 12, true);
    if (level === SOL_SOCKET && type === SO_TIMESTAMPNS && at + 32 <= length) {
      return v.getBigInt64(at + 16, true) * 1_000_000_000n + v.getBigInt64(at + 24, true);
    }
    at += (len + 7) & ~7;
  }
  return null;
}

/** One received datagram. */
export interface TimestampedDatagram {
  /** The payload (a copy). */
  data: Uint8Array;
  /** The sender as a sockaddr_in (for sendTo). */
  from: Uint8Array;
  /** When the kernel received it, CLOCK_REALTIME ns (null if no timestamp came). */
  kernelRxNs: bigint | null;
}

function ptr(buf: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

/** An IPv4 UDP socket with kernel receive timestamps. */
export class TimestampingUdpSocket {
  /** The bound local port. */
  readonly port: number;
  #fd: number;
  // Buffers whose addresses go into the msghdr; kept referenced for the socket's life.
  #payload = new Uint8Array(2048);
  #name = new Uint8Array(16);
  #control = new Uint8Array(256);
  #iov = new Uint8Array(16);
  #msg = new Uint8Array(56);

  /** Binds to `address`:`port` (0: any free port). Throws ErrnoError. */
  constructor(address: string, port: number) {
    const s = sym();
    const fd = s.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new ErrnoError("socket", lastErrno());
    this.#fd = fd;
    try {
      const one = new Uint8Array(4);
      new DataView(one.buffer).setInt32(0, 1, true);
      if (s.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, one, 4) < 0) {
        throw new ErrnoError("setsockopt(SO_TIMESTAMPNS)", lastErrno());
      }
      if (s.bind(fd, encodeSockaddrIn(address, port), 16) < 0) {
        throw new ErrnoError("bind", lastErrno());
      }
      const name = new Uint8Array(16);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, 16, true);
      if (s.getsockname(fd, name, len) < 0) throw new ErrnoError("getsockname", lastErrno());
      this.port = decodeSockaddrIn(name).port;
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    const iov = new DataView(this.#iov.buffer);
    iov.setBigUint64(0, ptr(this.#payload), true);
    iov.setBigUint64(8, BigInt(this.#payload.byteLength), true);
  }

  /**
   * Waits up to `timeoutMs` for a datagram; null on timeout or when the socket is closed.
   */
  async receive(timeoutMs: number): Promise<TimestampedDatagram | null> {
    if (this.#fd < 0) return null;
    if (!(await pollReadableAsync(this.#fd, timeoutMs)) || this.#fd < 0) return null;
    const msg = new DataView(this.#msg.buffer);
    msg.setBigUint64(0, ptr(this.#name), true);
    msg.setUint32(8, 16, true);
    msg.setBigUint64(16, ptr(this.#iov), true);
    msg.setBigUint64(24, 1n, true);
    msg.setBigUint64(32, ptr(this.#control), true);
    msg.setBigUint64(40, BigInt(this.#control.byteLength), true);
    msg.setInt32(48, 0, true);
    const n = Number(sym().recvmsg(this.#fd, this.#msg, MSG_DONTWAIT));
    if (n < 0) {
      const errno = lastErrno();
      if (errno === 11 || errno === 4) return null; // EAGAIN, EINTR
      throw new ErrnoError("recvmsg", errno);
    }
    const controlLen = Number(msg.getBigUint64(40, true));
    return {
      data: this.#payload.slice(0, n),
      from: this.#name.slice(),
      kernelRxNs: findTimestampNs(this.#control, controlLen),
    };
  }

  /** Sends `data` to a sockaddr_in at once (synchronous). Throws ErrnoError. */
  sendTo(data: Uint8Array, to: Uint8Array): void {
    const n = Number(sym().sendto(this.#fd, data, BigInt(data.byteLength), 0, to, 16));
    if (n < 0) throw new ErrnoError("sendto", lastErrno());
  }

  /** Closes the socket. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeFd(fd);
  }
}
