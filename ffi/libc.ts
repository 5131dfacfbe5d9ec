/**
 * Deno.dlopen bindings of the libc calls tempus needs: clocks, adjtimex, capabilities, the
 * file calls for /dev/rtc, and the socket calls of the kernel-timestamping UDP socket
 * (ffi/udp_socket.ts). libc.so.6 is opened lazily on first use, so importing this
 * module never fails on systems without it. Needs unscoped --allow-ffi (or -A).
 *
 * errno is read through __errno_location straight after each synchronous call; calls that
 * need errno are therefore never declared nonblocking.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { encodeTimespec, TIMESPEC_SIZE } from "./timespec.ts";
import { decodeTimex, encodeTimex, type Timex } from "./timex.ts";

/** The libc functions tempus binds, with their FFI signatures. */
export const LIBC_SYMBOLS = {
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  clock_settime: { parameters: ["i32", "buffer"], result: "i32" },
  clock_adjtime: { parameters: ["i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  capget: { parameters: ["buffer", "buffer"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  ioctl_ptr: { name: "ioctl", parameters: ["i32", "u64", "buffer"], result: "i32" },
  ioctl_val: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  poll_async: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
} as const;

/** The opened libc symbols (see SYMBOLS). */
export type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

let libc: Libc | null = null;

/** The libc symbols, opening libc.so.6 on first use. Throws if it cannot be opened. */
export function libcSymbols(): Libc {
  if (libc === null) libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS).symbols;
  return libc;
}

/** True when libc.so.6 can be opened (Linux with glibc and FFI permission). */
export function libcAvailable(): boolean {
  try {
    libcSymbols();
    return true;
  } catch {
    return false;
  }
}

/** The calling thread's errno; valid only straight after a synchronous failing call. */
export function lastErrno(): number {
  const p = libcSymbols().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function check(result: number, syscall: string): number {
  if (result < 0) throw new ErrnoError(syscall, lastErrno());
  return result;
}

/**
 * The timespec clock_gettime writes into, allocated once: a fresh typed array handed to FFI
 * costs a malloc'd backing store and GC pressure, about 5 µs per call against 0.1 µs.
 */
const gettimeBuffer = new Uint8Array(TIMESPEC_SIZE);
const gettimeView = new DataView(gettimeBuffer.buffer);

/** clock_gettime(clockId): nanoseconds. */
export function clockGettime(clockId: number): bigint {
  check(libcSymbols().clock_gettime(clockId, gettimeBuffer), "clock_gettime");
  return gettimeView.getBigInt64(0, true) * 1_000_000_000n + gettimeView.getBigInt64(8, true);
}

/** clock_settime(clockId, ns). Needs CAP_SYS_TIME for CLOCK_REALTIME. */
export function clockSettime(clockId: number, ns: bigint): void {
  check(libcSymbols().clock_settime(clockId, encodeTimespec(ns)), "clock_settime");
}

/** Result of adjtimex: the clock state (TIME_*) and the struct as the kernel left it. */
export interface AdjtimexResult {
  /** TIME_OK, TIME_INS, TIME_DEL, TIME_OOP, TIME_WAIT or TIME_ERROR. */
  state: number;
  /** The struct after the call (current values). */
  timex: Timex;
}

/** clock_adjtime(clockId, tx). With modes 0 it only reads. Throws ErrnoError on failure. */
export function clockAdjtime(clockId: number, tx: Partial<Timex>): AdjtimexResult {
  const buf = encodeTimex(tx);
  const state = check(libcSymbols().clock_adjtime(clockId, buf), "clock_adjtime");
  return { state, timex: decodeTimex(buf) };
}

/** adjtimex(tx) on CLOCK_REALTIME. */
export function adjtimex(tx: Partial<Timex>): AdjtimexResult {
  return clockAdjtime(0, tx);
}

/** _LINUX_CAPABILITY_VERSION_3. */
const CAP_VERSION_3 = 0x20080522;

/** Effective capability bits of this process (64 bits as a bigint) via capget(2). */
export function capgetEffective(): bigint {
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, CAP_VERSION_3, true);
  const data = new Uint8Array(24); // two __user_cap_data_struct {effective, permitted, inheritable}
  check(libcSymbols().capget(header, data), "capget");
  const view = new DataView(data.buffer);
  return BigInt(view.getUint32(0, true)) | (BigInt(view.getUint32(12, true)) << 32n);
}

/** open(2) flags. */
export const O_RDONLY = 0;
/** Read and write. */
export const O_RDWR = 2;
/** Close on exec. */
export const O_CLOEXEC = 0o2000000;
/** Non-blocking. */
export const O_NONBLOCK = 0o4000;

/** open(path, flags): a file descriptor. */
export function openPath(path: string, flags: number): number {
  const bytes = new TextEncoder().encode(path + "\0");
  return check(libcSymbols().open(bytes, flags), `open(${path})`);
}

/** close(fd). */
export function closeFd(fd: number): void {
  check(libcSymbols().close(fd), "close");
}

/** read(fd, buf): the number of bytes read. */
export function readFd(fd: number, buf: Uint8Array): number {
  const n = libcSymbols().read(fd, buf, BigInt(buf.byteLength));
  return check(Number(n), "read");
}

/** ioctl(fd, request, buf) with a pointer argument. */
export function ioctlBuffer(fd: number, request: number, buf: Uint8Array, what: string): void {
  check(libcSymbols().ioctl_ptr(fd, BigInt(request), buf), `ioctl(${what})`);
}

/** ioctl(fd, request, value) with an integer argument. */
export function ioctlValue(fd: number, request: number, value: number, what: string): void {
  check(libcSymbols().ioctl_val(fd, BigInt(request), BigInt(value)), `ioctl(${what})`);
}

const POLLIN = 0x0001;

function pollfd(fd: number): Uint8Array {
  const buf = new Uint8Array(8); // struct pollfd { int fd; short events; short revents; }
  const view = new DataView(buf.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  return buf;
}

/** poll(fd, POLLIN, timeoutMs) synchronously: true when readable. */
export function pollReadable(fd: number, timeoutMs: number): boolean {
  const buf = pollfd(fd);
  return check(libcSymbols().poll(buf, 1n, timeoutMs), "poll") > 0;
}

/**
 * poll(fd, POLLIN, timeoutMs) on a worker thread, so the event loop keeps running: resolves
 * true when readable, false on timeout or error (errno is not available for this call).
 */
export async function pollReadableAsync(fd: number, timeoutMs: number): Promise<boolean> {
  const buf = pollfd(fd);
  const n = await libcSymbols().poll_async(buf, 1n, timeoutMs);
  return n > 0 && (new DataView(buf.buffer).getInt16(6, true) & POLLIN) !== 0;
}
