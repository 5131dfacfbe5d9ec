/**
 * A serial port through FFI, for the NMEA refclock: open without becoming the controlling
 * terminal, termios raw 8N1 at a fixed speed with the modem lines ignored (tcgetattr,
 * cfmakeraw, cfsetispeed/cfsetospeed, tcsetattr), and reads that wait on a worker thread
 * (poll) so the event loop runs on. Needs --allow-ffi.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  tcflush: { parameters: ["i32", "i32"], result: "i32" },
  cfmakeraw: { parameters: ["buffer"], result: "void" },
  cfsetispeed: { parameters: ["buffer", "u32"], result: "i32" },
  cfsetospeed: { parameters: ["buffer", "u32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;
function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

function errno(): number {
  const p = symbols().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

function check(result: number, call: string): number {
  if (result < 0) throw new ErrnoError(call, errno());
  return result;
}

/** Linux termios speed constants (Bnnn) by baud rate. */
export const TERMIOS_SPEEDS: Readonly<Record<number, number>> = {
  1200: 0o11,
  2400: 0o13,
  4800: 0o14,
  9600: 0o15,
  19200: 0o16,
  38400: 0o17,
  57600: 0o10001,
  115200: 0o10002,
  230400: 0o10003,
};

/** sizeof(struct termios) on Linux glibc is 60; a little room to spare. */
const TERMIOS_SIZE = 64;
/** Offset of c_cflag in struct termios. */
const C_CFLAG = 8;
/** Offset of c_cc. */
const C_CC = 17;
const VTIME = 5;
const VMIN = 6;
const CLOCAL = 0o4000;
const CREAD = 0o200;
const TCSANOW = 0;
const TCIFLUSH = 0;
const O_RDWR = 2;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const POLLIN = 0x1;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const EAGAIN = 11;

/** What a wait on the port found. */
export type SerialWait = "readable" | "timeout" | "hangup";

/** An open serial port. */
export class SerialPort {
  #fd: number;
  readonly #pollfd = new Uint8Array(8);

  private constructor(fd: number) {
    this.#fd = fd;
    const v = new DataView(this.#pollfd.buffer);
    v.setInt32(0, fd, true);
    v.setInt16(4, POLLIN, true);
  }

  /** Opens `path` raw 8N1 at `baud` (a key of TERMIOS_SPEEDS); throws ErrnoError. */
  static open(path: string, baud: number): SerialPort {
    const speed = TERMIOS_SPEEDS[baud];
    if (speed === undefined) throw new RangeError(`unsupported baud rate ${baud}`);
    const s = symbols();
    const fd = check(
      s.open(new TextEncoder().encode(path + "\0"), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC),
      `open(${path})`,
    );
    try {
      const t = new Uint8Array(TERMIOS_SIZE);
      check(s.tcgetattr(fd, t), "tcgetattr");
      s.cfmakeraw(t);
      check(s.cfsetispeed(t, speed), "cfsetispeed");
      check(s.cfsetospeed(t, speed), "cfsetospeed");
      const v = new DataView(t.buffer);
      v.setUint32(C_CFLAG, v.getUint32(C_CFLAG, true) | CLOCAL | CREAD, true);
      t[C_CC + VMIN] = 1;
      t[C_CC + VTIME] = 0;
      check(s.tcsetattr(fd, TCSANOW, t), "tcsetattr");
      s.tcflush(fd, TCIFLUSH);
    } catch (e) {
      s.close(fd);
      throw e;
    }
    return new SerialPort(fd);
  }

  /** True until `close`. */
  get open(): boolean {
    return this.#fd >= 0;
  }

  /** Waits up to `timeoutMs` on a worker thread for input or a hang-up. */
  async wait(timeoutMs: number): Promise<SerialWait> {
    if (this.#fd < 0) return "hangup";
    const n = await symbols().poll(this.#pollfd, 1n, timeoutMs);
    if (n < 0) return "hangup";
    if (n === 0) return "timeout";
    const revents = new DataView(this.#pollfd.buffer).getInt16(6, true);
    if (revents & POLLIN) return "readable";
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) return "hangup";
    return "timeout";
  }

  /** Reads what is waiting into `buf`: bytes read, 0 when nothing is; null at end of file. */
  read(buf: Uint8Array): number | null {
    if (this.#fd < 0) return null;
    const n = Number(symbols().read(this.#fd, buf, BigInt(buf.byteLength)));
    if (n < 0) {
      const e = errno();
      if (e === EAGAIN) return 0;
      throw new ErrnoError("read", e);
    }
    return n === 0 ? null : n;
  }

  /** Closes the port (idempotent). */
  close(): void {
    if (this.#fd < 0) return;
    symbols().close(this.#fd);
    this.#fd = -1;
  }
}
