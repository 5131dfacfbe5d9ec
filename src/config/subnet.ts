/**
 * IP address and subnet parsing for allow/deny/cmdallow/cmddeny and bind addresses, in
 * chrony's forms: "1.2.3.4", "1.2.3" (prefix length from the number of parts),
 * "1.2.3.0/24", "192.168/16", "0/0", "2001:db8::/32", "::/0". Results are normalised to
 * CIDR text with the host bits cleared ("192.168.0.0/16", "2001:db8::/32").
 *
 * @module
 */

/** A parsed IPv4 or IPv6 address. */
export interface IpAddress {
  /** 4 or 6. */
  family: 4 | 6;
  /** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
  bytes: Uint8Array;
}

/** A parse result: a value or an error message. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses a full dotted-quad IPv4 address ("192.0.2.1"), or null. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!DECIMAL_OCTET.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

/** Parses an IPv6 address ("2001:db8::1", "::ffff:192.0.2.1"), or null. No zone ids. */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const groups = s.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (head === null || tail === null) return null;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** Parses an IPv4 or IPv6 literal, or null. */
export function parseIpAddress(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  if (v6 !== null) return { family: 6, bytes: v6 };
  return null;
}

/** Formats an address canonically (IPv6 per RFC 5952: lower case, longest zero run "::"). */
export function formatIpAddress(addr: IpAddress): string {
  const b = addr.bytes;
  if (addr.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[2 * i] << 8) | b[2 * i + 1]);
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
export function canonicalIp(text: string): string | null {
  const a = parseIpAddress(text);
  return a === null ? null : formatIpAddress(a);
}

function clearHostBits(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

/**
 * Parses a subnet in any of chrony's forms and returns normalised CIDR text
 * ("192.168.1.0/24"). Host names are refused (tempus does not resolve names in access
 * rules).
 */
export function parseSubnet(text: string): Parsed<string> {
  const slash = text.indexOf("/");
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  let prefix: number | null = null;
  if (prefixText !== null) {
    if (!/^[0-9]{1,3}$/.test(prefixText)) {
      return { ok: false, error: `invalid prefix length in subnet '${text}'` };
    }
    prefix = Number(prefixText);
  }
  let addr: IpAddress | null = null;
  if (addrText.includes(":")) {
    const v6 = parseIpv6(addrText);
    if (v6 !== null) addr = { family: 6, bytes: v6 };
  } else if (/^[0-9]+(\.[0-9]+){0,3}$/.test(addrText)) {
    // chrony's short IPv4 forms: "1.2.3" = 1.2.3.0/24, "10" = 10.0.0.0/8, "0/0".
    const parts = addrText.split(".");
    const bytes = new Uint8Array(4);
    let valid = true;
    parts.forEach((p, i) => {
      const n = Number(p);
      if (!DECIMAL_OCTET.test(p) || n > 255) valid = false;
      bytes[i] = n;
    });
    if (valid) {
      addr = { family: 4, bytes };
      if (prefix === null) prefix = 8 * parts.length;
    }
  }
  if (addr === null) {
    return {
      ok: false,
      error: `invalid subnet '${text}' (expected an address, a subnet such as ` +
        `192.168.1.0/24 or 192.168.1, or 'all'; host names are not supported)`,
    };
  }
  const maxPrefix = addr.family === 4 ? 32 : 128;
  if (prefix === null) prefix = maxPrefix;
  if (prefix > maxPrefix) {
    return { ok: false, error: `prefix length ${prefix} too long in subnet '${text}'` };
  }
  const network = { family: addr.family, bytes: clearHostBits(addr.bytes, prefix) };
  return { ok: true, value: `${formatIpAddress(network)}/${prefix}` };
}
