/**
 * A fake /dev/pps kernel for tests: capabilities, parameters, and the edges the test sets;
 * `present = false` makes every call fail as an unplugged device.
 *
 * @module
 */
import { ErrnoError } from "../../ffi/errno.ts";
import {
  decodePpsParams,
  encodePpsFdata,
  encodePpsParams,
  PPS_CAPTUREASSERT,
  PPS_CAPTURECLEAR,
  PPS_FETCH,
  PPS_GETCAP,
  PPS_GETPARAMS,
  PPS_SETPARAMS,
  PPS_TSFMT_TSPEC,
  type PpsInfo,
  type PpsKernel,
} from "../../ffi/pps.ts";

/** A fake /dev/pps kernel: capabilities, params, and edges the test sets. */
export class FakePpsKernel implements PpsKernel {
  caps = PPS_CAPTUREASSERT | PPS_CAPTURECLEAR | PPS_TSFMT_TSPEC;
  mode = 0;
  info: PpsInfo = { assertSequence: 0, clearSequence: 0, assertTime: 0n, clearTime: 0n, mode: 0 };
  present = true;
  calls: string[] = [];
  #fds = new Set<number>();
  #next = 3;
  open(path: string): number {
    this.calls.push(`open ${path}`);
    if (!this.present) throw new ErrnoError(`open(${path})`, 2);
    const fd = this.#next++;
    this.#fds.add(fd);
    return fd;
  }
  ioctl(fd: number, request: number, buf: Uint8Array, what: string): void {
    this.calls.push(what);
    if (!this.#fds.has(fd)) throw new ErrnoError(`ioctl(${what})`, 9);
    if (!this.present) throw new ErrnoError(`ioctl(${what})`, 19);
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (request === PPS_GETCAP) v.setInt32(0, this.caps, true);
    else if (request === PPS_GETPARAMS) {
      buf.set(encodePpsParams({ apiVersion: 1, mode: this.mode }));
    } else if (request === PPS_SETPARAMS) this.mode = decodePpsParams(buf).mode;
    else if (request === PPS_FETCH) buf.set(encodePpsFdata({ ...this.info, mode: this.mode }));
    else throw new ErrnoError(`ioctl(${what})`, 25);
  }
  close(fd: number): void {
    this.#fds.delete(fd);
  }
  get openFds(): number {
    return this.#fds.size;
  }
}
