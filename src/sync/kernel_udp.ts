/**
 * A client exchange over a raw libc UDP socket with kernel receive timestamps
 * (SO_TIMESTAMPNS), for the one-shot commands. Deno's datagram API gives no kernel
 * timestamps, so a receive time read in JavaScript includes the event-loop latency, which is
 * milliseconds on a busy machine. Here the request is sent by a synchronous sendto(2) right
 * after the transmit clock read, and each reply's receive time is the kernel's, carried over
 * to the caller's clock by subtracting the packet's age.
 *
 * Same contract as `exchange` in src/io/udp.ts (fresh socket and random source port per
 * request). `kernelExchangeAvailable()` is false when libc or FFI is unavailable; callers
 * then use the Deno socket. Linux x86_64/aarch64 (LP64) struct layouts.
 *
 * @module
 */
import { errnoName } from "../../ffi/errno.ts";
import { closeFd, lastErrno, pollReadableAsync } from "../../ffi/libc.ts";
import type { SocketAddress } from "../core/ports.ts";
import type { Instant } from "../core/time.ts";
import type { ExchangeOptions, ExchangeResult, ReceivedDatagram } from "../io/udp.ts";
import { parseIpv4, parseIpv6 } from "../ntp/ip.ts";

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_TIMESTAMPNS = 35;
const MSG_DONTWAIT = 0x40;
const CLOCK_REALTIME = 0;
const MAX_DATAGRAM = 2048;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let symbols: Symbols | null | undefined;

function libc(): Symbols | null {
  if (symbols === undefined) {
    try {
      symbols = Deno.build.os === "linux" && typeof Deno.dlopen === "function"
        ? Deno.dlopen("libc.so.6", SYMBOLS).symbols
        : null;
    } catch {
      symbols = null;
    }
  }
  return symbols;
}

/** True when exchanges with kernel receive timestamps can be made here. */
export function kernelExchangeAvailable(): boolean {
  return libc() !== null;
}

/** Encodes a sockaddr_in / sockaddr_in6 for `to`, or null when the address is no literal. */
export function encodeSockaddr(to: SocketAddress): { family: number; bytes: Uint8Array } | null {
  const v4 = parseIpv4(to.address);
  if (v4 !== null) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint16(0, AF_INET, true);
    v.setUint16(2, to.port, false);
    b.set(v4, 4);
    return { family: AF_INET, bytes: b };
  }
  const v6 = parseIpv6(to.address);
  if (v6 === null) return null;
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, true);
  v.setUint16(2, to.port, false);
  b.set(v6, 8);
  return { family: AF_INET6, bytes: b };
}

/** Decodes the address and port of a sockaddr_in / sockaddr_in6. */
export function decodeSockaddr(b: Uint8Array, length: number): SocketAddress | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const family = v.getUint16(0, true);
  const port = v.getUint16(2, false);
  if (family === AF_INET && length >= 8) {
    return { address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port };
  }
  if (family === AF_INET6 && length >= 24) {
    const words: string[] = [];
    for (let i = 0; i < 8; i++) words.push(v.getUint16(8 + 2 * i, false).toString(16));
    return { address: compressIpv6(words), port };
  }
  return null;
}

/** RFC 5952 text of 8 hex words (longest run of two or more zero words becomes "::"). */
function compressIpv6(words: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return words.join(":");
  return `${words.slice(0, bestStart).join(":")}::${words.slice(bestStart + bestLength).join(":")}`;
}

/**
 * Finds the SCM_TIMESTAMPNS control message in `control[0..length)` and returns its
 * timestamp as an instant, or null.
 */
export function findRxTimestamp(control: Uint8Array, length: number): Instant | null {
  const v = new DataView(control.buffer, control.byteOffset, control.byteLength);
  let at = 0;
  while (at + 16 <= length) {
    const cmsgLen = Number(v.getBigUint64(at, true));
    const level = v.getInt32(at + 8, true);
    const type = v.getInt32(at + 12, true);
    if (cmsgLen < 16 || at + cmsgLen > length) return null;
    if (level === SOL_SOCKET && type === SO_TIMESTAMPNS && cmsgLen >= 32) {
      const sec = v.getBigInt64(at + 16, true);
      const nsec = v.getBigInt64(at + 24, true);
      return sec * 1_000_000_000n + nsec;
    }
    at += Math.ceil(cmsgLen / 8) * 8;
  }
  return null;
}

function realtimeNow(lib: Symbols, buf: Uint8Array): Instant {
  lib.clock_gettime(CLOCK_REALTIME, buf);
  const v = new DataView(buf.buffer);
  return v.getBigInt64(0, true) * 1_000_000_000n + v.getBigInt64(8, true);
}

function sameAddress(a: string, b: string): boolean {
  const norm = (s: string) => {
    const v6 = parseIpv6(s);
    if (v6 !== null && v6.slice(0, 10).every((x) => x === 0) && v6[10] === 255 && v6[11] === 255) {
      return v6.slice(12).join(".");
    }
    return v6 !== null ? [...v6].join(",") : s;
  };
  return norm(a) === norm(b);
}

/**
 * `exchange` over a libc socket with kernel receive timestamps. Throws only when no socket
 * can be created (the caller then falls back to the Deno socket).
 */
export async function kernelExchange(
  to: SocketAddress,
  request: Uint8Array,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const lib = libc();
  const sockaddr = encodeSockaddr(to);
  if (lib === null || sockaddr === null) throw new Error("kernel UDP socket unavailable");
  const fd = lib.socket(sockaddr.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error("socket() failed");
  const replies: ReceivedDatagram[] = [];
  let accepted = false;
  let sendError: string | null = null;
  let sentAt: Instant = options.clock();
  let localPort = 0;
  // Buffers whose addresses go into msghdr; all stay referenced until the end.
  const data = new Uint8Array(MAX_DATAGRAM);
  const name = new Uint8Array(28);
  const control = new Uint8Array(256);
  const iov = new Uint8Array(16);
  const msg = new Uint8Array(56);
  const ts = new Uint8Array(16);
  try {
    const one = new Uint8Array(4);
    new DataView(one.buffer).setInt32(0, 1, true);
    if (lib.setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, one, 4) !== 0) {
      throw new Error("setsockopt(SO_TIMESTAMPNS) failed");
    }
    const iovView = new DataView(iov.buffer);
    iovView.setBigUint64(0, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(data))), true);
    iovView.setBigUint64(8, BigInt(data.length), true);
    const msgView = new DataView(msg.buffer);
    sentAt = options.clock();
    const sent = lib.sendto(
      fd,
      request,
      BigInt(request.length),
      0,
      sockaddr.bytes,
      sockaddr.bytes.length,
    );
    if (Number(sent) !== request.length) sendError = `sendto: ${errnoName(lastErrno())}`;
    const local = new Uint8Array(28);
    const localLength = new Uint8Array(4);
    new DataView(localLength.buffer).setUint32(0, local.length, true);
    if (lib.getsockname(fd, local, localLength) === 0) {
      localPort = new DataView(local.buffer).getUint16(2, false);
    }
    const deadline = performance.now() + Math.max(0, options.timeoutMs);
    const accept = options.accept ?? (() => true);
    while (sendError === null && !accepted) {
      const remaining = Math.ceil(deadline - performance.now());
      if (remaining <= 0) break;
      // Even when poll says "not readable" (timeout, or POLLERR from a queued ICMP error),
      // one recvmsg drains or clears the socket; the deadline check ends the loop.
      await pollReadableAsync(fd, remaining);
      for (;;) {
        msgView.setBigUint64(
          0,
          BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(name))),
          true,
        );
        msgView.setUint32(8, name.length, true);
        msgView.setBigUint64(
          16,
          BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(iov))),
          true,
        );
        msgView.setBigUint64(24, 1n, true);
        msgView.setBigUint64(
          32,
          BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(control))),
          true,
        );
        msgView.setBigUint64(40, BigInt(control.length), true);
        msgView.setInt32(48, 0, true);
        const n = Number(lib.recvmsg(fd, msg, MSG_DONTWAIT));
        if (n < 0) break; // EAGAIN: drained (or an ICMP error; keep waiting)
        const nowCaller = options.clock();
        const nowRaw = realtimeNow(lib, ts);
        const from = decodeSockaddr(name, msgView.getUint32(8, true));
        if (from === null || from.port !== to.port || !sameAddress(from.address, to.address)) {
          continue;
        }
        const kernelRx = findRxTimestamp(control, Number(msgView.getBigUint64(40, true)));
        // The packet's age by the raw clock moves the caller's clock reading back to arrival.
        const receivedAt = kernelRx === null || kernelRx > nowRaw ||
            nowRaw - kernelRx > 1_000_000_000n
          ? nowCaller
          : nowCaller - (nowRaw - kernelRx);
        const datagram = { data: data.slice(0, n), from, receivedAt };
        replies.push(datagram);
        if (accept(datagram, sentAt)) {
          accepted = true;
          break;
        }
      }
    }
  } finally {
    try {
      closeFd(fd);
    } catch { /* closed */ }
  }
  return { sentAt, localPort, replies, accepted, sendError };
}
