/**
 * IP address literals as bytes: parsing of IPv4 dotted quads and IPv6 text (with `::` and an
 * embedded IPv4 tail), used for reference IDs and by the DNS edge to short-circuit literals.
 * Pure; parsing never throws.
 *
 * @module
 */

/** Parses a dotted-quad IPv4 literal ("192.0.2.1") into 4 bytes, or null if not one. */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!/^[0-9]{1,3}$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    out[i] = value;
  }
  return out;
}

/** Parses one side of an IPv6 literal (groups separated by ':') into 16-bit words. */
function parseGroups(text: string, allowV4Tail: boolean): number[] | null {
  if (text === "") return [];
  const groups = text.split(":");
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i];
    if (allowV4Tail && i === groups.length - 1 && group.includes(".")) {
      const v4 = parseIpv4(group);
      if (v4 === null) return null;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    words.push(parseInt(group, 16));
  }
  return words;
}

/**
 * Parses an IPv6 literal ("2001:db8::1", "::ffff:192.0.2.1"; a zone suffix "%eth0" is
 * ignored) into 16 bytes, or null if not one.
 */
export function parseIpv6(text: string): Uint8Array | null {
  const zone = text.indexOf("%");
  const body = zone >= 0 ? text.slice(0, zone) : text;
  if (body.length < 2 || body.length > 45) return null;
  const doubleColon = body.indexOf("::");
  let words: number[];
  if (doubleColon >= 0) {
    if (body.indexOf("::", doubleColon + 1) >= 0) return null;
    const head = parseGroups(body.slice(0, doubleColon), false);
    const tail = parseGroups(body.slice(doubleColon + 2), true);
    if (head === null || tail === null) return null;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseGroups(body, true);
    if (all === null || all.length !== 8) return null;
    words = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

/** The IP family of a literal: 4, 6, or null when the text is not an IP literal. */
export function ipFamily(text: string): 4 | 6 | null {
  if (parseIpv4(text) !== null) return 4;
  if (parseIpv6(text) !== null) return 6;
  return null;
}
