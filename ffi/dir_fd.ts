/**
 * Directory work by file descriptor, for places where a path could be swapped under us (the
 * command client's socket directory next to a daemon's socket): open a directory without
 * following a link, check its owner and mode with fstat, and create, chmod, stat and remove
 * entries relative to it (mkdirat, fchmod, fchmodat, fstatat, unlinkat). Linux x86_64
 * constants and `struct stat` layout. Needs unscoped --allow-ffi (or -A).
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { lastErrno } from "./libc.ts";

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32", "u32"], result: "i32" },
  mkdirat: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  fchmodat: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  fstat: { parameters: ["i32", "buffer"], result: "i32" },
  fstatat: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  unlinkat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  geteuid: { parameters: [], result: "u32" },
} as const;

const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const STAT_SIZE = 144;
const S_IFMT = 0o170000;

/** File type bits of `st_mode`: directory. */
export const S_IFDIR = 0o040000;
/** File type bits of `st_mode`: socket. */
export const S_IFSOCK = 0o140000;

let symbols: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;
function lib() {
  if (symbols === null) symbols = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return symbols;
}

function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function check(result: number, what: string): number {
  if (result < 0) throw new ErrnoError(what, lastErrno());
  return result;
}

/** Owner, group and mode of a file as fstat reports them. */
export interface FdStat {
  /** `st_mode` (type and permission bits). */
  mode: number;
  /** Owner. */
  uid: number;
  /** Group. */
  gid: number;
}

function decodeStat(buf: Uint8Array): FdStat {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    mode: view.getUint32(24, true),
    uid: view.getUint32(28, true),
    gid: view.getUint32(32, true),
  };
}

/** True when `mode` is of file type `type` (S_IFDIR, S_IFSOCK). */
export function isType(mode: number, type: number): boolean {
  return (mode & S_IFMT) === type;
}

/** Opens the directory `path`; fails (ELOOP/ENOTDIR) if its last component is a link. */
export function openDirNoFollow(path: string): number {
  return check(
    lib().open(cString(path), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0),
    `open(${path})`,
  );
}

/** Opens the directory `name` inside `dirFd`, never through a link. */
export function openDirAt(dirFd: number, name: string): number {
  return check(
    lib().openat(dirFd, cString(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0),
    `openat(${name})`,
  );
}

/** fstat(fd). */
export function fstatFd(fd: number): FdStat {
  const buf = new Uint8Array(STAT_SIZE);
  check(lib().fstat(fd, buf), "fstat");
  return decodeStat(buf);
}

/** fstatat(dirFd, name) of the entry itself (a link is not followed). */
export function fstatAt(dirFd: number, name: string): FdStat {
  const buf = new Uint8Array(STAT_SIZE);
  check(lib().fstatat(dirFd, cString(name), buf, AT_SYMLINK_NOFOLLOW), `fstatat(${name})`);
  return decodeStat(buf);
}

/** mkdirat(dirFd, name, mode): fails if anything (a link included) is already there. */
export function mkdirAt(dirFd: number, name: string, mode: number): void {
  check(lib().mkdirat(dirFd, cString(name), mode), `mkdirat(${name})`);
}

/** fchmod(fd, mode). */
export function fchmodFd(fd: number, mode: number): void {
  check(lib().fchmod(fd, mode), "fchmod");
}

/** fchmodat(dirFd, name, mode): for entries of a directory only we can write. */
export function fchmodAt(dirFd: number, name: string, mode: number): void {
  check(lib().fchmodat(dirFd, cString(name), mode, 0), `fchmodat(${name})`);
}

/** unlinkat(dirFd, name): removes a file, or an empty directory with `directory`. */
export function unlinkAt(dirFd: number, name: string, directory = false): void {
  check(lib().unlinkat(dirFd, cString(name), directory ? AT_REMOVEDIR : 0), `unlinkat(${name})`);
}

/** close(fd), ignoring errors. */
export function closeDirFd(fd: number): void {
  if (fd >= 0) lib().close(fd);
}

/** The effective user id. */
export function geteuid(): number {
  return lib().geteuid();
}
