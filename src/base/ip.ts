/**
 * IP address literals as bytes, the one home of address parsing and formatting: IPv4 dotted
 * quads (and chrony's short forms "1.2.3", "10"), IPv6 text (with `::` and an embedded IPv4
 * tail), RFC 5952 formatting, and subnets ("192.168.1.0/24", "2001:db8::/32"). Used for
 * reference IDs, by the DNS and socket edges to recognise literals, by config validation and
 * by the access tables. Pure; parsing never throws.
 *
 * @module
 */
import { readU16, writeU16 } from "./bytes.ts";

/** Parsing options shared by the parsers here. */
export interface IpParseOptions {
  /**
   * inet_pton's rules, as config validation wants them: no leading zeros in IPv4 octets
   * ("01.2.3.4") and no IPv6 zone suffix ("%eth0"). Default false: both are accepted and a
   * zone is ignored.
   */
  strict?: boolean;
}

/** A parsed IPv4 or IPv6 address. */
export interface IpAddress {
  /** 4 or 6. */
  family: 4 | 6;
  /** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
  bytes: Uint8Array;
}

/** A parsed subnet: an address (host bits as written) and a prefix length. */
export interface IpSubnet extends IpAddress {
  /** Prefix length in bits (0-32 for IPv4, 0-128 for IPv6). */
  prefix: number;
}

/** Why text is not a subnet: a bad prefix, a bad address, or a prefix beyond the family. */
export type IpSubnetError = "invalid-prefix" | "invalid-address" | "prefix-too-long";

/**
 * Parses a dotted IPv4 literal with 1 to 4 parts (chrony's short forms: "1.2.3" is
 * 1.2.3.0), missing parts zero; returns the bytes and the number of parts, or null.
 */
export function parseDottedIpv4(
  text: string,
  options: IpParseOptions = {},
): { bytes: Uint8Array; parts: number } | null {
  const octet = options.strict ? /^(0|[1-9][0-9]{0,2})$/ : /^[0-9]{1,3}$/;
  const parts = text.split(".");
  if (parts.length > 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!octet.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return { bytes, parts: parts.length };
}

/** Parses a dotted-quad IPv4 literal ("192.0.2.1") into 4 bytes, or null if not one. */
export function parseIpv4(text: string, options: IpParseOptions = {}): Uint8Array | null {
  const dotted = parseDottedIpv4(text, options);
  return dotted !== null && dotted.parts === 4 ? dotted.bytes : null;
}

/** Parses one side of an IPv6 literal (groups separated by ':') into 16-bit words. */
function parseGroups(text: string, allowV4Tail: boolean, options: IpParseOptions): number[] | null {
  if (text === "") return [];
  const groups = text.split(":");
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (allowV4Tail && i === groups.length - 1 && group.includes(".")) {
      const v4 = parseIpv4(group, options);
      if (v4 === null) return null;
      words.push(readU16(v4, 0), readU16(v4, 2));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    words.push(parseInt(group, 16));
  }
  return words;
}

/**
 * Parses an IPv6 literal ("2001:db8::1", "::ffff:192.0.2.1"; a zone suffix "%eth0" is
 * ignored unless `strict`) into 16 bytes, or null if not one.
 */
export function parseIpv6(text: string, options: IpParseOptions = {}): Uint8Array | null {
  const zone = text.indexOf("%");
  if (zone >= 0 && options.strict) return null;
  const body = zone >= 0 ? text.slice(0, zone) : text;
  if (body.length < 2 || body.length > 45) return null;
  const doubleColon = body.indexOf("::");
  let words: number[];
  if (doubleColon >= 0) {
    if (body.indexOf("::", doubleColon + 1) >= 0) return null;
    const head = parseGroups(body.slice(0, doubleColon), false, options);
    const tail = parseGroups(body.slice(doubleColon + 2), true, options);
    if (head === null || tail === null) return null;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseGroups(body, true, options);
    if (all === null || all.length !== 8) return null;
    words = all;
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => writeU16(out, 2 * i, w));
  return out;
}

/** The IP family of a literal: 4, 6, or null when the text is not an IP literal. */
export function ipFamily(text: string): 4 | 6 | null {
  if (parseIpv4(text) !== null) return 4;
  if (parseIpv6(text) !== null) return 6;
  return null;
}

/** Parses an IPv4 or IPv6 literal, or null. */
export function parseIpAddress(text: string, options: IpParseOptions = {}): IpAddress | null {
  const v4 = parseIpv4(text, options);
  if (v4 !== null) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text, options);
  if (v6 !== null) return { family: 6, bytes: v6 };
  return null;
}

/** True for the 16 bytes of an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * True when two address texts name the same host: IPv6 compares by value ("2001:DB8::1"
 * equals "2001:db8:0::1"), an IPv4-mapped IPv6 address equals its IPv4 form, brackets
 * ("[::1]") and zones are ignored; text that is no literal compares case-insensitively.
 */
export function sameIpAddress(a: string, b: string): boolean {
  return addressKey(a) === addressKey(b);
}

function addressKey(text: string): string {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const addr = parseIpAddress(bare);
  if (addr === null) return bare.toLowerCase();
  return (isV4Mapped(addr.bytes) ? addr.bytes.subarray(12) : addr.bytes).join(".");
}

/** Formats an address canonically (IPv6 per RFC 5952: lower case, longest zero run "::"). */
export function formatIpAddress(addr: IpAddress): string {
  const b = addr.bytes;
  if (addr.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(readU16(b, 2 * i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLen).join(":");
  return `${left}::${right}`;
}

/** Normalises an IP literal to canonical text, or null if it is not one. */
export function canonicalIp(text: string, options: IpParseOptions = {}): string | null {
  const a = parseIpAddress(text, options);
  return a === null ? null : formatIpAddress(a);
}

/**
 * Parses a subnet in chrony's forms: "1.2.3.4" (/32), "1.2.3" (/24), "1.2" (/16), "1" (/8),
 * "1.2.3.0/24", "192.168/16", "0/0", "2001:db8::/32", "::/0", a bare IPv6 address (/128).
 * Host bits stay as written. Host names are not subnets.
 */
export function parseIpSubnet(
  text: string,
  options: IpParseOptions = {},
): { ok: true; value: IpSubnet } | { ok: false; error: IpSubnetError } {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  let prefix: number | null = null;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(prefixText)) return { ok: false, error: "invalid-prefix" };
    prefix = Number(prefixText);
  }
  let addr: IpAddress | null = null;
  if (addrText.includes(":")) {
    const v6 = parseIpv6(addrText, options);
    if (v6 !== null) addr = { family: 6, bytes: v6 };
  } else {
    const dotted = parseDottedIpv4(addrText, options);
    if (dotted !== null) {
      addr = { family: 4, bytes: dotted.bytes };
      prefix ??= 8 * dotted.parts;
    }
  }
  if (addr === null) return { ok: false, error: "invalid-address" };
  const maxPrefix = addr.family === 4 ? 32 : 128;
  prefix ??= maxPrefix;
  if (prefix > maxPrefix) return { ok: false, error: "prefix-too-long" };
  return { ok: true, value: { ...addr, prefix } };
}

/** A copy of `bytes` with every bit after the first `prefix` bits cleared. */
export function clearHostBits(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}
