/**
 * The Linux PPS API (/dev/ppsN, linux/pps.h) through ioctls: PPS_GETCAP, PPS_GETPARAMS,
 * PPS_SETPARAMS and PPS_FETCH with a zero timeout, as chrony's refclock_pps.c uses them
 * (through timepps.h). The structs are encoded and decoded here, pure; the calls go through
 * a `PpsKernel`, the real one being libc (open/ioctl/close) and the tests' a fake.
 *
 * @module
 */
import { type IoctlKernel, LIBC_IOCTL_KERNEL } from "./ioctl_device.ts";

/** _IOR('p', 0xa1, struct pps_kparams *): the size field is a pointer's, 8. */
export const PPS_GETPARAMS = 0x800870a1;
/** _IOW('p', 0xa2, struct pps_kparams *). */
export const PPS_SETPARAMS = 0x400870a2;
/** _IOR('p', 0xa3, int *). */
export const PPS_GETCAP = 0x800870a3;
/** _IOWR('p', 0xa4, struct pps_fdata *). */
export const PPS_FETCH = 0xc00870a4;

/** Capture the assert edge. */
export const PPS_CAPTUREASSERT = 0x01;
/** Capture the clear edge. */
export const PPS_CAPTURECLEAR = 0x02;
/** Timestamps as struct timespec. */
export const PPS_TSFMT_TSPEC = 0x1000;
/** PPS_API_VERS_1. */
export const PPS_API_VERS = 1;

/** sizeof(struct pps_kparams): api_version, mode, two pps_ktime. */
export const PPS_KPARAMS_SIZE = 40;
/** sizeof(struct pps_fdata): pps_kinfo (48 with padding) and the timeout pps_ktime. */
export const PPS_FDATA_SIZE = 64;

/** One fetched state: the sequence numbers and times of the last assert and clear edges. */
export interface PpsInfo {
  /** Assert edges seen. */
  assertSequence: number;
  /** Clear edges seen. */
  clearSequence: number;
  /** System time of the last assert edge, ns. */
  assertTime: bigint;
  /** System time of the last clear edge, ns. */
  clearTime: bigint;
  /** The device's current mode bits. */
  mode: number;
}

/** struct pps_kparams. */
export interface PpsParams {
  /** API version. */
  apiVersion: number;
  /** Mode bits. */
  mode: number;
}

function ktime(v: DataView, at: number): bigint {
  return v.getBigInt64(at, true) * 1_000_000_000n + BigInt(v.getInt32(at + 8, true));
}

/** Decodes struct pps_fdata's pps_kinfo. Throws RangeError when too short. */
export function decodePpsFdata(bytes: Uint8Array): PpsInfo {
  if (bytes.byteLength < PPS_FDATA_SIZE) throw new RangeError("struct pps_fdata too short");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    assertSequence: v.getUint32(0, true),
    clearSequence: v.getUint32(4, true),
    assertTime: ktime(v, 8),
    clearTime: ktime(v, 24),
    mode: v.getInt32(40, true),
  };
}

/** Encodes a pps_fdata (what a kernel writes; the tests' fake uses it). */
export function encodePpsFdata(info: PpsInfo): Uint8Array {
  const bytes = new Uint8Array(PPS_FDATA_SIZE);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, info.assertSequence >>> 0, true);
  v.setUint32(4, info.clearSequence >>> 0, true);
  const put = (at: number, t: bigint) => {
    v.setBigInt64(at, t / 1_000_000_000n, true);
    v.setInt32(at + 8, Number(t % 1_000_000_000n), true);
  };
  put(8, info.assertTime);
  put(24, info.clearTime);
  v.setInt32(40, info.mode, true);
  return bytes;
}

/** Decodes struct pps_kparams. */
export function decodePpsParams(bytes: Uint8Array): PpsParams {
  if (bytes.byteLength < PPS_KPARAMS_SIZE) throw new RangeError("struct pps_kparams too short");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { apiVersion: v.getInt32(0, true), mode: v.getInt32(4, true) };
}

/** Encodes struct pps_kparams (offsets zero). */
export function encodePpsParams(p: PpsParams): Uint8Array {
  const bytes = new Uint8Array(PPS_KPARAMS_SIZE);
  const v = new DataView(bytes.buffer);
  v.setInt32(0, p.apiVersion, true);
  v.setInt32(4, p.mode, true);
  return bytes;
}

/** The calls a PPS device needs (libc for real; a fake kernel in tests). */
export type PpsKernel = IoctlKernel;

/** An open PPS device set to capture one edge. */
export class PpsDevice {
  readonly #kernel: PpsKernel;
  #fd: number;
  readonly #fdata = new Uint8Array(PPS_FDATA_SIZE);
  /** True when the clear edge is the one captured. */
  readonly clear: boolean;

  private constructor(kernel: PpsKernel, fd: number, clear: boolean) {
    this.#kernel = kernel;
    this.#fd = fd;
    this.clear = clear;
  }

  /**
   * Opens `path`, checks that it can capture the wanted edge with timespec stamps
   * (PPS_GETCAP) and sets that edge's capture on (PPS_GETPARAMS / PPS_SETPARAMS).
   */
  static open(path: string, clear: boolean, kernel: PpsKernel = LIBC_IOCTL_KERNEL): PpsDevice {
    const fd = kernel.open(path);
    try {
      const cap = new Uint8Array(8);
      kernel.ioctl(fd, PPS_GETCAP, cap, "PPS_GETCAP");
      const caps = new DataView(cap.buffer).getInt32(0, true);
      const edge = clear ? PPS_CAPTURECLEAR : PPS_CAPTUREASSERT;
      if ((caps & edge) === 0) {
        throw new Error(`${path} cannot capture the ${clear ? "clear" : "assert"} edge`);
      }
      const params = new Uint8Array(PPS_KPARAMS_SIZE);
      kernel.ioctl(fd, PPS_GETPARAMS, params, "PPS_GETPARAMS");
      const p = decodePpsParams(params);
      const mode = p.mode | edge | PPS_TSFMT_TSPEC;
      kernel.ioctl(
        fd,
        PPS_SETPARAMS,
        encodePpsParams({ apiVersion: PPS_API_VERS, mode }),
        "PPS_SETPARAMS",
      );
    } catch (e) {
      kernel.close(fd);
      throw e;
    }
    return new PpsDevice(kernel, fd, clear);
  }

  /** PPS_FETCH with a zero timeout: the device's latest edges. Throws ErrnoError. */
  fetch(): PpsInfo {
    this.#fdata.fill(0);
    this.#kernel.ioctl(this.#fd, PPS_FETCH, this.#fdata, "PPS_FETCH");
    return decodePpsFdata(this.#fdata);
  }

  /** Closes the device (idempotent). */
  close(): void {
    if (this.#fd < 0) return;
    this.#kernel.close(this.#fd);
    this.#fd = -1;
  }
}
