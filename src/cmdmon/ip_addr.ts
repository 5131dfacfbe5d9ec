/**
 * chrony's `IPAddr` (20 bytes: a 16-byte address union, u16 family, u16 pad) and the text
 * forms chrony prints. Families: 0 unspecified, 1 IPv4, 2 IPv6, 3 ID (a reference id in the
 * IPv4 field). Parsing and decoding never throw.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { formatIpAddress, isV4Mapped, parseIpAddress } from "../base/ip.ts";

/** Address family numbers of IPAddr. */
export const IPADDR_UNSPEC = 0;
/** IPv4. */
export const IPADDR_INET4 = 1;
/** IPv6. */
export const IPADDR_INET6 = 2;
/** A reference id (refclocks, unresolved sources). */
export const IPADDR_ID = 3;

/** An IPAddr as numbers: family plus 16 address bytes (IPv4 in the first four). */
export interface IpAddr {
  /** 0 unspec, 1 inet4, 2 inet6, 3 id. */
  family: number;
  /** 16 bytes. */
  bytes: Uint8Array;
}

/** The unspecified address (chrony's "all sources" / "none"). */
export function unspecAddr(): IpAddr {
  return { family: IPADDR_UNSPEC, bytes: new Uint8Array(16) };
}

/** Parses an IP literal into an IpAddr, or null if the text is not one. */
export function parseIpAddr(text: string): IpAddr | null {
  const ip = parseIpAddress(text);
  if (ip === null) return null;
  const bytes = new Uint8Array(16);
  bytes.set(ip.bytes);
  return { family: ip.family === 4 ? IPADDR_INET4 : IPADDR_INET6, bytes };
}

/** An IPv4 address from a 32-bit number (e.g. a reference id). */
export function ipv4FromNumber(value: number): IpAddr {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setUint32(0, value >>> 0);
  return { family: IPADDR_INET4, bytes };
}

/** chrony's UTI_IPToString: "1.2.3.4", "2001:db8::1", "ID#0000000001", "[UNSPEC]". */
export function formatIpAddr(addr: IpAddr): string {
  const b = addr.bytes;
  switch (addr.family) {
    case IPADDR_INET4:
      return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    case IPADDR_INET6:
      return isV4Mapped(b)
        ? `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`
        : formatIpAddress({ family: 6, bytes: b });
    case IPADDR_ID: {
      const id = new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
      return `ID#${id.toString(10).padStart(10, "0")}`;
    }
    default:
      return "[UNSPEC]";
  }
}

/** chrony's UTI_IPToRefid: the reference id a local address maps to (IPv4 as is). */
export function ipToRefId(addr: IpAddr): number {
  if (addr.family === IPADDR_INET4) {
    return new DataView(addr.bytes.buffer, addr.bytes.byteOffset, 16).getUint32(0);
  }
  if (addr.family === IPADDR_INET6) {
    const digest = createHash("md5").update(addr.bytes).digest();
    return ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
  }
  return 0;
}

/** chrony's UTI_RefidToString: printable ASCII characters of a refid ("GPS", "LOCL"). */
export function refIdToString(refId: number): string {
  let out = "";
  for (let i = 0; i < 4; i++) {
    const c = (refId >>> (24 - 8 * i)) & 0xff;
    if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
  }
  return out;
}
