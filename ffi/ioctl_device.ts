/**
 * A character device driven by ioctls (PPS, PTP), seen through three calls so that tests
 * can put a fake kernel underneath: open, ioctl with a buffer, close. The real kernel is
 * libc's (ffi/libc.ts).
 *
 * @module
 */
import { closeFd, ioctlBuffer, O_CLOEXEC, O_RDONLY, O_RDWR, openPath } from "./libc.ts";

/** The calls an ioctl device needs (libc for real; a fake kernel in tests). */
export interface IoctlKernel {
  /** open(path, O_RDWR or O_RDONLY): a descriptor; throws. */
  open(path: string, readOnly?: boolean): number;
  /** ioctl(fd, request, buf); throws. */
  ioctl(fd: number, request: number, buf: Uint8Array, what: string): void;
  /** close(fd). */
  close(fd: number): void;
}

/** The real kernel, through ffi/libc.ts. */
export const LIBC_IOCTL_KERNEL: IoctlKernel = {
  open: (path, readOnly) => openPath(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC),
  ioctl: (fd, request, buf, what) => ioctlBuffer(fd, request, buf, what),
  close: (fd) => closeFd(fd),
};
