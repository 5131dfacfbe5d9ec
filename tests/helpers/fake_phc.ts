/**
 * A fake /dev/ptp kernel for tests: answers the PTP_SYS_OFFSET ioctls the test allows
 * (`supports`) with readings from `reading(i)`; `present = false` fails every call as an
 * unplugged device (ENODEV).
 *
 * @module
 */
import { ErrnoError } from "../../ffi/errno.ts";
import type { IoctlKernel } from "../../ffi/ioctl_device.ts";
import {
  encodePhcAnswer,
  type PhcMode,
  type PhcReading,
  PTP_MAX_SAMPLES,
  PTP_SYS_OFFSET,
  PTP_SYS_OFFSET_EXTENDED,
  PTP_SYS_OFFSET_PRECISE,
} from "../../ffi/phc.ts";

/** The fake kernel. */
export class FakePhcKernel implements IoctlKernel {
  supports: PhcMode[] = ["precise", "extended", "basic"];
  present = true;
  calls: string[] = [];
  /** The i-th reading of a request. */
  reading: (i: number) => PhcReading = (i) => ({
    sysBefore: 1000n + BigInt(i) * 100n,
    phc: 37_000_001_050n + BigInt(i) * 100n,
    sysAfter: 1100n + BigInt(i) * 100n,
  });
  #fds = new Set<number>();
  #next = 3;

  /** Descriptors open now. */
  get openFds(): number {
    return this.#fds.size;
  }
  /** open(2). */
  open(path: string): number {
    this.calls.push(`open ${path}`);
    if (!this.present) throw new ErrnoError(`open(${path})`, 2);
    const fd = this.#next++;
    this.#fds.add(fd);
    return fd;
  }
  /** ioctl(2). */
  ioctl(fd: number, request: number, buf: Uint8Array, what: string): void {
    this.calls.push(what);
    if (!this.#fds.has(fd)) throw new ErrnoError(`ioctl(${what})`, 9);
    if (!this.present) throw new ErrnoError(`ioctl(${what})`, 19);
    const mode: PhcMode | null = request === PTP_SYS_OFFSET_PRECISE
      ? "precise"
      : request === PTP_SYS_OFFSET_EXTENDED
      ? "extended"
      : request === PTP_SYS_OFFSET
      ? "basic"
      : null;
    if (mode === null) throw new ErrnoError(`ioctl(${what})`, 25);
    if (!this.supports.includes(mode)) throw new ErrnoError(`ioctl(${what})`, 95);
    const n = mode === "precise"
      ? 1
      : Math.min(PTP_MAX_SAMPLES, new DataView(buf.buffer, buf.byteOffset).getUint32(0, true));
    buf.set(encodePhcAnswer(mode, Array.from({ length: n }, (_, i) => this.reading(i))));
  }
  /** close(2). */
  close(fd: number): void {
    this.#fds.delete(fd);
  }
}
