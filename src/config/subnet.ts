/**
 * Subnet and address validation for allow/deny/cmdallow/cmddeny and bind addresses, with
 * inet_pton's strictness (no leading zeros, no zones) and config error messages. Parsing
 * itself lives in src/base/ip.ts; results are normalised to CIDR text with the host bits
 * cleared ("192.168.0.0/16", "2001:db8::/32").
 *
 * @module
 */
import {
  canonicalIp as canonicalIpText,
  clearHostBits,
  formatIpAddress,
  type IpAddress,
  parseIpAddress as parseIpAddressText,
  parseIpSubnet,
} from "../base/ip.ts";

/** A parse result: a value or an error message. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Config's address rules: inet_pton's (no leading zeros in octets, no zone suffix). */
const STRICT = { strict: true } as const;

/** Parses an IPv4 or IPv6 literal by config's rules (no leading zeros, no zone), or null. */
export function parseIpAddress(text: string): IpAddress | null {
  return parseIpAddressText(text, STRICT);
}

/** Normalises an IP literal (config's rules) to canonical text, or null if it is not one. */
export function canonicalIp(text: string): string | null {
  return canonicalIpText(text, STRICT);
}

/**
 * Parses a subnet in any of chrony's forms and returns normalised CIDR text
 * ("192.168.1.0/24"). Host names are refused (tempus does not resolve names in access
 * rules).
 */
export function parseSubnet(text: string): Parsed<string> {
  const r = parseIpSubnet(text, STRICT);
  if (!r.ok) {
    switch (r.error) {
      case "invalid-prefix":
        return { ok: false, error: `invalid prefix length in subnet '${text}'` };
      case "prefix-too-long": {
        const prefix = Number(text.slice(text.indexOf("/") + 1));
        return { ok: false, error: `prefix length ${prefix} too long in subnet '${text}'` };
      }
      default:
        return {
          ok: false,
          error: `invalid subnet '${text}' (expected an address, a subnet such as ` +
            `192.168.1.0/24 or 192.168.1, or 'all'; host names are not supported)`,
        };
    }
  }
  const { family, bytes, prefix } = r.value;
  const network = { family, bytes: clearHostBits(bytes, prefix) };
  return { ok: true, value: `${formatIpAddress(network)}/${prefix}` };
}
