/**
 * chrony's `IPAddr` (20 bytes: a 16-byte address union, u16 family, u16 pad) and the text
 * forms chrony prints. Families: 0 unspecified, 1 IPv4, 2 IPv6, 3 ID (a reference id in the
 * IPv4 field). Parsing and decoding never throw.
 *
 * @module
 */
import { createHash } from "node:crypto";

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

function parseV4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^[0-9]{1,3}$/.test(parts[i])) return null;
    const v = Number(parts[i]);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

function parseV6(text: string): Uint8Array | null {
  const zone = text.indexOf("%");
  const body = zone >= 0 ? text.slice(0, zone) : text;
  if (!body.includes(":")) return null;
  const halves = body.split("::");
  if (halves.length > 2) return null;
  const words = (part: string, last: boolean): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (last && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseV4(g);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  let all: number[];
  if (halves.length === 2) {
    const head = words(halves[0], false);
    const tail = words(halves[1], true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    all = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const w = words(halves[0], true);
    if (w === null || w.length !== 8) return null;
    all = w;
  }
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parses an IP literal into an IpAddr, or null if the text is not one. */
export function parseIpAddr(text: string): IpAddr | null {
  const v4 = parseV4(text);
  if (v4 !== null) {
    const bytes = new Uint8Array(16);
    bytes.set(v4);
    return { family: IPADDR_INET4, bytes };
  }
  const v6 = parseV6(text);
  if (v6 !== null) return { family: IPADDR_INET6, bytes: v6 };
  return null;
}

/** An IPv4 address from a 32-bit number (e.g. a reference id). */
export function ipv4FromNumber(value: number): IpAddr {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setUint32(0, value >>> 0);
  return { family: IPADDR_INET4, bytes };
}

function formatV6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i] << 8) | b[2 * i + 1]);
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  if (bestLen < 2) return w.map(hex).join(":");
  const head = w.slice(0, bestStart).map(hex).join(":");
  const tail = w.slice(bestStart + bestLen).map(hex).join(":");
  return `${head}::${tail}`;
}

/** chrony's UTI_IPToString: "1.2.3.4", "2001:db8::1", "ID#0000000001", "[UNSPEC]". */
export function formatIpAddr(addr: IpAddr): string {
  const b = addr.bytes;
  switch (addr.family) {
    case IPADDR_INET4:
      return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    case IPADDR_INET6:
      return formatV6(b);
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
