/**
 * A UDP socket that Deno opened (Deno.listenDatagram), seen through libc: its descriptor,
 * found by its bound address, and the few calls that let the NTP server keep kernel
 * timestamps on it while Deno's own event loop wakes it (one thread woken per datagram,
 * instead of a poll() on the blocking pool that wakes a pool thread and then the event loop).
 *
 * - `lastRxTimestamp` (SIOCGSTAMPNS): the kernel receive timestamp of the datagram Deno's
 *   receive just read. The kernel keeps it per socket only while no receive timestamps are
 *   delivered as control messages (SO_TIMESTAMPNS off, no SOF_TIMESTAMPING_SOFTWARE);
 *   otherwise it is stale, so `setRxTimestamps` switches SO_TIMESTAMPNS on for batched
 *   reads (recvmmsg, which take the timestamps from control messages) and off again before
 *   Deno reads.
 * - `nextDatagramLength` (SIOCINQ): whether more datagrams wait (the length of the next).
 *
 * Linux x86-64/aarch64 (LP64). Needs --allow-ffi.
 *
 * @module
 */
import type { Instant } from "../src/base/time.ts";

const SYMBOLS = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
} as const;

type SharedLibc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let symbols: SharedLibc | null = null;

function sharedLibc(): SharedLibc {
  if (symbols === null) symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return symbols;
}

const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_TIMESTAMPNS = 35;
const SOCK_DGRAM = 2;
const SIOCGSTAMPNS = 0x8907n;
const SIOCINQ = 0x541bn;
/** Descriptors searched for the socket (a daemon holds a few dozen). */
const MAX_FD = 4096;

/**
 * The descriptor of this process's UDP socket bound to exactly `sockaddr` (as
 * ffi/sockaddr.ts writes it: family, port and address; `length` octets compared, the IPv6
 * flow label and scope excepted), or null when there is none.
 */
export function findUdpDescriptor(sockaddr: Uint8Array, length: number): number | null {
  const c = sharedLibc();
  const name = new Uint8Array(28);
  const nameLength = new Uint32Array(1);
  const nameLengthBytes = new Uint8Array(nameLength.buffer);
  const type = new Int32Array(1);
  const typeBytes = new Uint8Array(type.buffer);
  const typeLength = new Uint32Array(1);
  const typeLengthBytes = new Uint8Array(typeLength.buffer);
  for (let fd = 0; fd < MAX_FD; fd++) {
    nameLength[0] = 28;
    if (c.getsockname(fd, name, nameLengthBytes) !== 0 || nameLength[0] !== length) continue;
    if (!sameAddress(name, sockaddr, length)) continue;
    typeLength[0] = 4;
    if (c.getsockopt(fd, SOL_SOCKET, SO_TYPE, typeBytes, typeLengthBytes) !== 0) continue;
    if (type[0] === SOCK_DGRAM) return fd;
  }
  return null;
}

/** Family, port and address equal (sockaddr_in: octets 0..8; sockaddr_in6: 0..4 and 8..24). */
function sameAddress(a: Uint8Array, b: Uint8Array, length: number): boolean {
  const v6 = length >= 24;
  const end = v6 ? 24 : 8;
  for (let i = 0; i < end; i++) {
    if (v6 && i >= 4 && i < 8) continue; // flow label
    if (a[i] !== b[i]) return false;
  }
  return true;
}

/** Reads the per-socket receive timestamp (SIOCGSTAMPNS). */
export class LastRxTimestamp {
  readonly #ts = new Uint8Array(16);
  readonly #view = new DataView(this.#ts.buffer);

  /**
   * The kernel receive timestamp (CLOCK_REALTIME) of the datagram last read from `fd`, or
   * null when the kernel has none (nothing read yet). The first call also makes the kernel
   * stamp every datagram from then on.
   */
  read(fd: number): Instant | null {
    if (sharedLibc().ioctl(fd, SIOCGSTAMPNS, this.#ts) !== 0) return null;
    return this.#view.getBigInt64(0, true) * 1_000_000_000n + this.#view.getBigInt64(8, true);
  }
}

const ON = new Uint8Array(new Int32Array([1]).buffer);
const OFF = new Uint8Array(4);

/** Switches SO_TIMESTAMPNS on socket `fd`; false when the kernel refused. */
export function setRxTimestamps(fd: number, on: boolean): boolean {
  return sharedLibc().setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, on ? ON : OFF, 4) === 0;
}

const inq = new Int32Array(1);
const inqBytes = new Uint8Array(inq.buffer);

/** Length of the next datagram waiting on `fd` (SIOCINQ): 0 when none (or it is empty). */
export function nextDatagramLength(fd: number): number {
  if (sharedLibc().ioctl(fd, SIOCINQ, inqBytes) !== 0) return 0;
  return inq[0];
}
