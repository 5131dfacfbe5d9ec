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
  17: "EEXIST",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  25: "ENOTTY",
  28: "ENOSPC",
  30: "EROFS",
  32: "EPIPE",
  34: "ERANGE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  40: "ELOOP",
  88: "ENOTSOCK",
  90: "EMSGSIZE",
  93: "EPROTONOSUPPORT",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  104: "ECONNRESET",
  105: "ENOBUFS",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
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
  EEXIST: "file exists",
  ENODEV: "no such device",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EINVAL: "invalid argument",
  EMFILE: "too many open files",
  ENOTTY: "inappropriate ioctl for device",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EPIPE: "broken pipe",
  ERANGE: "result out of range",
  ENAMETOOLONG: "file name too long",
  ENOSYS: "function not implemented",
  ELOOP: "too many levels of symbolic links",
  ENOTSOCK: "not a socket",
  EMSGSIZE: "message too long",
  EPROTONOSUPPORT: "protocol not supported",
  EOPNOTSUPP: "operation not supported",
  EAFNOSUPPORT: "address family not supported by protocol",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  ENETDOWN: "network is down",
  ENETUNREACH: "network is unreachable",
  ECONNRESET: "connection reset by peer",
  ENOBUFS: "no buffer space available",
  ETIMEDOUT: "timed out",
  ECONNREFUSED: "connection refused",
  EHOSTUNREACH: "no route to host",
};

/**
 * An errno as people read it: "Address already in use (EADDRINUSE)", or "errno N" for one
 * this table does not know.
 */
export function describeErrno(errno: number): string {
  const code = ERRNO_NAMES[errno];
  const text = code === undefined ? undefined : DESCRIPTIONS[code];
  if (code === undefined || text === undefined) return `errno ${errno}`;
  return `${text[0].toUpperCase()}${text.slice(1)} (${code})`;
}

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
