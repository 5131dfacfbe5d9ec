/**
 * errno numbers of Linux x86_64 and an Error carrying their names, so that callers print
 * "EPERM" rather than a bare number.
 *
 * @module
 */

/** errno value to its symbolic name (the subset a clock daemon meets). */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  19: "ENODEV",
  22: "EINVAL",
  25: "ENOTTY",
  30: "EROFS",
  34: "ERANGE",
  38: "ENOSYS",
  95: "EOPNOTSUPP",
  110: "ETIMEDOUT",
};

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EINTR: "interrupted system call",
  EIO: "input/output error",
  ENXIO: "no such device or address",
  EBADF: "bad file descriptor",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "out of memory",
  EACCES: "permission denied",
  EFAULT: "bad address",
  EBUSY: "device or resource busy",
  ENODEV: "no such device",
  EINVAL: "invalid argument",
  ENOTTY: "inappropriate ioctl for device",
  EROFS: "read-only file system",
  ERANGE: "result out of range",
  ENOSYS: "function not implemented",
  EOPNOTSUPP: "operation not supported",
  ETIMEDOUT: "timed out",
};

/** The symbolic name of an errno value ("EPERM"), or "E<n>" when unknown. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `E${errno}`;
}

/** An error returned by a system call; `code` is the errno name ("EPERM", "EINVAL"...). */
export class ErrnoError extends Error {
  /** The numeric errno. */
  readonly errno: number;
  /** The symbolic errno name. */
  readonly code: string;
  /** The failing call ("clock_adjtime", "ioctl(RTC_RD_TIME)"...). */
  readonly syscall: string;

  /** Builds the error for `syscall` failing with `errno`. */
  constructor(syscall: string, errno: number) {
    const code = errnoName(errno);
    const text = DESCRIPTIONS[code];
    super(`${syscall}: ${code}${text ? ` (${text})` : ""}`);
    this.name = "ErrnoError";
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
  }
}
