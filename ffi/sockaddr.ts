/**
 * Reading and writing struct sockaddr_in / sockaddr_in6 (Linux LP64 layout, 28-octet
 * buffers) for the FFI UDP sockets, and parsing the address literals they are made from.
 *
 * @module
 */
import { formatIpAddress, isV4Mapped, parseIpv4, parseIpv6 } from "../src/base/ip.ts";
import { AF_INET } from "./socket_options.ts";

/** Parses an IPv4 or IPv6 literal into bytes (4 or 16), or null. */
export function ipBytes(text: string): Uint8Array | null {
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

/**
 * Writes a sockaddr_in (AF_INET) or sockaddr_in6 (AF_INET6; a 4-byte address becomes
 * IPv4-mapped) for `addr`:`port` into `v` (28 bytes); returns its length.
 */
export function writeSockaddr(
  v: DataView,
  family: number,
  addr: Uint8Array,
  port: number,
): number {
  for (let i = 0; i < 28; i++) v.setUint8(i, 0);
  v.setUint16(0, family, true);
  v.setUint16(2, port, false);
  if (family === AF_INET) {
    for (let i = 0; i < 4; i++) v.setUint8(4 + i, addr[i]);
    return 16;
  }
  if (addr.length === 4) {
    v.setUint8(18, 0xff);
    v.setUint8(19, 0xff);
    for (let i = 0; i < 4; i++) v.setUint8(20 + i, addr[i]);
  } else {
    for (let i = 0; i < 16; i++) v.setUint8(8 + i, addr[i]);
  }
  return 28;
}

/** Reads the address and port of a sockaddr_in / sockaddr_in6 (IPv4-mapped as IPv4). */
export function readSockaddr(v: DataView, b: Uint8Array): { hostname: string; port: number } {
  const family = v.getUint16(0, true);
  const port = v.getUint16(2, false);
  if (family === AF_INET) return { hostname: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port };
  const addr = b.subarray(8, 24);
  const hostname = isV4Mapped(addr)
    ? `${addr[12]}.${addr[13]}.${addr[14]}.${addr[15]}`
    : formatIpAddress({ family: 6, bytes: addr });
  return { hostname, port };
}

/**
 * Parses a dotted quad ("192.0.2.1": four decimal parts 0..255) into `out` without
 * allocating; false when `text` is not one (`out` is then undefined).
 */
export function parseDottedQuad(text: string, out: Uint8Array): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return false;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + c - 48;
      if (value > 255) return false;
      digits++;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  out[3] = value;
  return true;
}

const destinationV4 = new Uint8Array(4);

/**
 * Writes the sockaddr for sending from a socket of `socketFamily` to `address` (text; IPv4
 * dotted quads parsed without allocating, and IPv4-mapped on an AF_INET6 socket) and
 * `port` into `v`: its length, or 0 when `address` is not one the socket can reach.
 */
export function writeDestination(
  v: DataView,
  socketFamily: number,
  address: string,
  port: number,
): number {
  let bytes: Uint8Array | null = destinationV4;
  if (!parseDottedQuad(address, destinationV4)) bytes = ipBytes(address);
  if (bytes === null || (bytes.length === 16 && socketFamily === AF_INET)) return 0;
  return writeSockaddr(v, socketFamily, bytes, port);
}
