/**
 * PTP hardware clocks (/dev/ptpN, linux/ptp_clock.h) through ioctls, as chrony's
 * sys_linux.c reads them: PTP_SYS_OFFSET_PRECISE (hardware cross-timestamps), else
 * PTP_SYS_OFFSET_EXTENDED (system time read just before and after each PHC read), else
 * PTP_SYS_OFFSET (system and PHC reads interleaved); the first that works is kept. An
 * interface name is turned into its PHC with ETHTOOL_GET_TS_INFO (SIOCETHTOOL). Structs are
 * encoded and decoded here, pure; the calls go through an IoctlKernel (tests: a fake).
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { type IoctlKernel, LIBC_IOCTL_KERNEL } from "./ioctl_device.ts";
import { closeFd, ioctlBuffer, lastErrno, libcSymbols } from "./libc.ts";

/** Largest n_samples the kernel takes. */
export const PTP_MAX_SAMPLES = 25;
/** sizeof(struct ptp_sys_offset): n_samples, rsv[3], ts[2 * 25 + 1]. */
export const PTP_SYS_OFFSET_SIZE: number = 16 + (2 * PTP_MAX_SAMPLES + 1) * 16;
/** sizeof(struct ptp_sys_offset_extended): n_samples, rsv[3], ts[25][3]. */
export const PTP_SYS_OFFSET_EXTENDED_SIZE: number = 16 + PTP_MAX_SAMPLES * 3 * 16;
/** sizeof(struct ptp_sys_offset_precise): device, sys_realtime, sys_monoraw, rsv[4]. */
export const PTP_SYS_OFFSET_PRECISE_SIZE = 64;

function iow(nr: number, size: number): number {
  return ((1 << 30) | (size << 16) | (0x3d << 8) | nr) >>> 0;
}
function iowr(nr: number, size: number): number {
  return ((3 << 30) | (size << 16) | (0x3d << 8) | nr) >>> 0;
}
/** _IOW('=', 5, struct ptp_sys_offset). */
export const PTP_SYS_OFFSET: number = iow(5, PTP_SYS_OFFSET_SIZE);
/** _IOWR('=', 8, struct ptp_sys_offset_precise). */
export const PTP_SYS_OFFSET_PRECISE: number = iowr(8, PTP_SYS_OFFSET_PRECISE_SIZE);
/** _IOWR('=', 9, struct ptp_sys_offset_extended). */
export const PTP_SYS_OFFSET_EXTENDED: number = iowr(9, PTP_SYS_OFFSET_EXTENDED_SIZE);

/** One PHC reading bracketed by system time (equal bounds for a cross-timestamp). */
export interface PhcReading {
  /** System time just before the PHC read, ns. */
  sysBefore: bigint;
  /** PHC time, ns. */
  phc: bigint;
  /** System time just after, ns. */
  sysAfter: bigint;
}

/** How the readings were taken. */
export type PhcMode = "precise" | "extended" | "basic";

function clockTime(v: DataView, at: number): bigint {
  return v.getBigInt64(at, true) * 1_000_000_000n + BigInt(v.getUint32(at + 8, true));
}

function putClockTime(v: DataView, at: number, t: bigint): void {
  const sec = t >= 0n ? t / 1_000_000_000n : (t - 999_999_999n) / 1_000_000_000n;
  v.setBigInt64(at, sec, true);
  v.setUint32(at + 8, Number(t - sec * 1_000_000_000n), true);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A request buffer for `n` samples (PTP_SYS_OFFSET or _EXTENDED). */
export function encodeSysOffsetRequest(mode: "extended" | "basic", n: number): Uint8Array {
  const b = new Uint8Array(mode === "basic" ? PTP_SYS_OFFSET_SIZE : PTP_SYS_OFFSET_EXTENDED_SIZE);
  view(b).setUint32(0, Math.min(PTP_MAX_SAMPLES, Math.max(1, n)), true);
  return b;
}

/** The readings of a PTP_SYS_OFFSET answer: ts = sys, phc, sys, phc, ..., sys. */
export function decodeSysOffset(b: Uint8Array): PhcReading[] {
  if (b.byteLength < PTP_SYS_OFFSET_SIZE) throw new RangeError("ptp_sys_offset too short");
  const v = view(b);
  const n = Math.min(PTP_MAX_SAMPLES, v.getUint32(0, true));
  const ts = (i: number) => clockTime(v, 16 + i * 16);
  return Array.from({ length: n }, (_, i) => ({
    sysBefore: ts(2 * i),
    phc: ts(2 * i + 1),
    sysAfter: ts(2 * i + 2),
  }));
}

/** The readings of a PTP_SYS_OFFSET_EXTENDED answer: ts[i] = sys, phc, sys. */
export function decodeSysOffsetExtended(b: Uint8Array): PhcReading[] {
  if (b.byteLength < PTP_SYS_OFFSET_EXTENDED_SIZE) throw new RangeError("too short");
  const v = view(b);
  const n = Math.min(PTP_MAX_SAMPLES, v.getUint32(0, true));
  const ts = (i: number, j: number) => clockTime(v, 16 + (i * 3 + j) * 16);
  return Array.from({ length: n }, (_, i) => ({
    sysBefore: ts(i, 0),
    phc: ts(i, 1),
    sysAfter: ts(i, 2),
  }));
}

/** The reading of a PTP_SYS_OFFSET_PRECISE answer (device, sys_realtime). */
export function decodeSysOffsetPrecise(b: Uint8Array): PhcReading {
  if (b.byteLength < PTP_SYS_OFFSET_PRECISE_SIZE) throw new RangeError("too short");
  const v = view(b);
  const sys = clockTime(v, 16);
  return { sysBefore: sys, phc: clockTime(v, 0), sysAfter: sys };
}

/** Encodes readings as a kernel would answer (the tests' fake kernel uses it). */
export function encodePhcAnswer(mode: PhcMode, readings: readonly PhcReading[]): Uint8Array {
  if (mode === "precise") {
    const b = new Uint8Array(PTP_SYS_OFFSET_PRECISE_SIZE);
    putClockTime(view(b), 0, readings[0].phc);
    putClockTime(view(b), 16, readings[0].sysBefore);
    return b;
  }
  const b = encodeSysOffsetRequest(mode, readings.length);
  const v = view(b);
  readings.slice(0, PTP_MAX_SAMPLES).forEach((r, i) => {
    if (mode === "extended") {
      putClockTime(v, 16 + (i * 3) * 16, r.sysBefore);
      putClockTime(v, 16 + (i * 3 + 1) * 16, r.phc);
      putClockTime(v, 16 + (i * 3 + 2) * 16, r.sysAfter);
    } else {
      putClockTime(v, 16 + (2 * i) * 16, r.sysBefore);
      putClockTime(v, 16 + (2 * i + 1) * 16, r.phc);
      putClockTime(v, 16 + (2 * i + 2) * 16, r.sysAfter);
    }
  });
  return b;
}

/**
 * The best reading (shortest system-time bracket) as a sample: system time at the middle
 * of the bracket, PHC minus system time (s), and the bracket (s). Null with no sane reading.
 */
export function bestPhcSample(
  readings: readonly PhcReading[],
): { sys: bigint; offset: number; delay: number } | null {
  let best: PhcReading | null = null;
  for (const r of readings) {
    if (r.sysAfter < r.sysBefore) continue;
    if (best === null || r.sysAfter - r.sysBefore < best.sysAfter - best.sysBefore) best = r;
  }
  if (best === null) return null;
  const delay = best.sysAfter - best.sysBefore;
  const sys = best.sysBefore + delay / 2n;
  return { sys, offset: Number(best.phc - sys) / 1e9, delay: Number(delay) / 1e9 };
}

/** An open PHC. */
export class PhcDevice {
  readonly #kernel: IoctlKernel;
  #fd: number;
  #mode: PhcMode | null;

  private constructor(kernel: IoctlKernel, fd: number, nocrossts: boolean) {
    this.#kernel = kernel;
    this.#fd = fd;
    this.#mode = nocrossts ? "extended" : null;
  }

  /** Opens `path` read-only. */
  static open(
    path: string,
    nocrossts: boolean,
    kernel: IoctlKernel = LIBC_IOCTL_KERNEL,
  ): PhcDevice {
    return new PhcDevice(kernel, kernel.open(path, true), nocrossts);
  }

  /** The way readings are taken now (null before the first read). */
  get mode(): PhcMode | null {
    return this.#mode;
  }

  #try(mode: PhcMode, n: number): PhcReading[] {
    if (mode === "precise") {
      const b = new Uint8Array(PTP_SYS_OFFSET_PRECISE_SIZE);
      this.#kernel.ioctl(this.#fd, PTP_SYS_OFFSET_PRECISE, b, "PTP_SYS_OFFSET_PRECISE");
      return [decodeSysOffsetPrecise(b)];
    }
    const b = encodeSysOffsetRequest(mode, n);
    if (mode === "extended") {
      this.#kernel.ioctl(this.#fd, PTP_SYS_OFFSET_EXTENDED, b, "PTP_SYS_OFFSET_EXTENDED");
      return decodeSysOffsetExtended(b);
    }
    this.#kernel.ioctl(this.#fd, PTP_SYS_OFFSET, b, "PTP_SYS_OFFSET");
    return decodeSysOffset(b);
  }

  /**
   * `n` readings in the best way the device supports, found on the first call (an
   * unsupported request, EOPNOTSUPP/EINVAL/ENOTTY, falls to the next). Throws ErrnoError.
   */
  read(n: number): PhcReading[] {
    const order: PhcMode[] = this.#mode !== null
      ? (["precise", "extended", "basic"] as PhcMode[]).slice(
        ["precise", "extended", "basic"].indexOf(this.#mode),
      )
      : ["precise", "extended", "basic"];
    let last: unknown = null;
    for (const mode of order) {
      try {
        const r = this.#try(mode, n);
        this.#mode = mode;
        return r;
      } catch (e) {
        last = e;
        const unsupported = e instanceof ErrnoError &&
          ["EOPNOTSUPP", "ENOTSUP", "EINVAL", "ENOTTY"].includes(e.code);
        if (!unsupported) throw e;
      }
    }
    throw last;
  }

  /** Closes the device (idempotent). */
  close(): void {
    if (this.#fd < 0) return;
    this.#kernel.close(this.#fd);
    this.#fd = -1;
  }
}

/** SIOCETHTOOL. */
const SIOCETHTOOL = 0x8946;
/** ETHTOOL_GET_TS_INFO. */
const ETHTOOL_GET_TS_INFO = 0x41;

/** The PHC index of a network interface (ETHTOOL_GET_TS_INFO), or null when it has none. */
export function phcIndexOfInterface(name: string): number | null {
  if (name.length === 0 || name.length > 15) throw new Error(`bad interface name '${name}'`);
  const info = new Uint8Array(44);
  view(info).setUint32(0, ETHTOOL_GET_TS_INFO, true);
  const ifreq = new Uint8Array(40);
  ifreq.set(new TextEncoder().encode(name));
  const ptr = Deno.UnsafePointer.value(Deno.UnsafePointer.of(info));
  view(ifreq).setBigUint64(16, BigInt(ptr), true);
  const fd = libcSymbols().socket(2, 2, 0);
  if (fd < 0) throw new ErrnoError("socket", lastErrno());
  try {
    ioctlBuffer(fd, SIOCETHTOOL, ifreq, `SIOCETHTOOL(${name})`);
  } finally {
    closeFd(fd);
  }
  const index = view(info).getInt32(8, true);
  return index < 0 ? null : index;
}
