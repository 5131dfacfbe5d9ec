/**
 * Socket options of chrony's edge directives, applied to a socket's file descriptor:
 * SO_BINDTODEVICE (`binddevice`, `bindacqdevice`, `bindcmddevice`) and IP_TOS /
 * IPV6_TCLASS (`dscp`, as DSCP << 2). Also finds the descriptor of a UDP socket this
 * process has bound (including Deno.listenDatagram's, which expose no descriptor) through
 * /proc/net/udp{,6} and /proc/self/fd.
 *
 * @module
 */
import { ErrnoError } from "./errno.ts";
import { lastErrno } from "./libc.ts";

const SYMBOLS = {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
} as const;

let lib: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null = null;

function symbols(): Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return lib;
}

const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IP = 0;
const IP_TOS = 1;
const IPPROTO_IPV6 = 41;
const IPV6_TCLASS = 67;
/** AF_INET. */
export const AF_INET = 2;
/** AF_INET6. */
export const AF_INET6 = 10;
/** sendto/sendmmsg flag: walk the send path (socket, route) but send nothing. */
export const MSG_PROBE = 0x10;
const IFNAMSIZ = 16; // interface names are checked by the configuration (1-15 bytes)

/** What to apply to a socket. */
export interface SocketTuning {
  /** Interface name for SO_BINDTODEVICE, or null. */
  device: string | null;
  /** DSCP value (0-63) for IP_TOS / IPV6_TCLASS, or null (0 leaves the default). */
  dscp: number | null;
}

function int32(value: number): Uint8Array {
  return new Uint8Array(new Int32Array([value]).buffer);
}

/** setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name). Throws ErrnoError (ENODEV...). */
export function bindToDevice(fd: number, device: string): void {
  const name = new TextEncoder().encode(device + "\0");
  if (symbols().setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) < 0) {
    throw new ErrnoError(`setsockopt(SO_BINDTODEVICE ${device})`, lastErrno());
  }
}

/** Sets the DSCP of outgoing packets: IP_TOS (IPv4) or IPV6_TCLASS (IPv6) = dscp << 2. */
export function setDscp(fd: number, family: number, dscp: number): void {
  const [level, option, what] = family === AF_INET6
    ? [IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS"]
    : [IPPROTO_IP, IP_TOS, "IP_TOS"];
  if (symbols().setsockopt(fd, level, option, int32(dscp << 2), 4) < 0) {
    throw new ErrnoError(`setsockopt(${what})`, lastErrno());
  }
  // An IPv6 socket also carries IPv4 (dual stack): set IP_TOS too where the kernel allows.
  if (family === AF_INET6) symbols().setsockopt(fd, IPPROTO_IP, IP_TOS, int32(dscp << 2), 4);
}

/** Applies `tuning` to `fd` (device first, as chronyd). Throws ErrnoError on failure. */
export function applySocketTuning(fd: number, family: number, tuning: SocketTuning): void {
  if (tuning.device !== null) bindToDevice(fd, tuning.device);
  if (tuning.dscp !== null && tuning.dscp !== 0) setDscp(fd, family, tuning.dscp);
}

/** getsockopt(SO_BINDTODEVICE): the bound interface name ("" for none). */
export function boundDevice(fd: number): string {
  const buf = new Uint8Array(IFNAMSIZ);
  const len = int32(IFNAMSIZ);
  if (symbols().getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, len) < 0) {
    throw new ErrnoError("getsockopt(SO_BINDTODEVICE)", lastErrno());
  }
  const n = new DataView(len.buffer).getInt32(0, true);
  const text = new TextDecoder().decode(buf.subarray(0, n));
  return text.replace(/\0.*$/s, "");
}

/** getsockopt(IP_TOS) or IPV6_TCLASS: the traffic class byte. */
export function trafficClass(fd: number, family: number): number {
  const buf = int32(0);
  const len = int32(4);
  const [level, option] = family === AF_INET6 ? [IPPROTO_IPV6, IPV6_TCLASS] : [IPPROTO_IP, IP_TOS];
  if (symbols().getsockopt(fd, level, option, buf, len) < 0) {
    throw new ErrnoError("getsockopt(IP_TOS)", lastErrno());
  }
  return new DataView(buf.buffer).getInt32(0, true);
}

/** One UDP socket of this process found through /proc. */
export interface OwnUdpSocket {
  /** Its file descriptor in this process. */
  fd: number;
  /** AF_INET or AF_INET6. */
  family: number;
}

/** Inodes of UDP sockets bound to local `port`, from /proc/net/udp and udp6. */
export function udpInodesForPort(port: number): { inode: string; family: number }[] {
  const found: { inode: string; family: number }[] = [];
  for (
    const [file, family] of [["/proc/net/udp", AF_INET], ["/proc/net/udp6", AF_INET6]] as const
  ) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const local = f[1];
      const localPort = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
      if (localPort === port) found.push({ inode: f[9], family });
    }
  }
  return found;
}

/**
 * The descriptors of this process's UDP sockets bound to local `port` (any address).
 * Used for sockets opened by Deno.listenDatagram, which does not expose its descriptor.
 */
export function ownUdpSocketsOnPort(port: number): OwnUdpSocket[] {
  const inodes = new Map(udpInodesForPort(port).map((e) => [`socket:[${e.inode}]`, e.family]));
  if (inodes.size === 0) return [];
  const out: OwnUdpSocket[] = [];
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
    } catch {
      continue;
    }
    const family = inodes.get(target);
    if (family !== undefined) out.push({ fd: Number(entry.name), family });
  }
  return out.sort((a, b) => a.fd - b.fd);
}
