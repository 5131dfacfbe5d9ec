/**
 * RFC 7822 extension fields and the MAC trailer of an NTPv4 packet.
 *
 * After the 48-byte header, data is read as a sequence of extension fields (type 16 bits,
 * length 16 bits counting the 4-byte field header, value padded to a multiple of 4, at least
 * 16 octets). Whenever 24 octets or fewer remain, they are the MAC trailer (4-byte key ID
 * plus digest), which makes parsing deterministic as RFC 7822 section 7.5 requires. A last
 * field not followed by a MAC is therefore always at least 28 octets long.
 *
 * Decoding never throws and copies at most the input's bytes; encoding pads values so the
 * decoded form re-encodes byte for byte.
 *
 * @module
 */
import { readU16, readU32, writeU16, writeU32 } from "../base/bytes.ts";

/** One extension field. `value` is the field body after the 4-byte header, padding included. */
export interface ExtensionField {
  /** Field type (16 bits). */
  type: number;
  /** Field body (length - 4 octets), including any zero padding. */
  value: Uint8Array;
}

/** The MAC trailer: key ID and digest (the digest is empty for a 4-octet crypto-NAK). */
export interface MacTrailer {
  /** Key identifier (32 bits, unsigned). */
  keyId: number;
  /** Message digest octets (16 for MD5/AES-CMAC, 20 for SHA-1, longer in NTPv3). */
  digest: Uint8Array;
}

/** Why the data after the header could not be parsed. */
export type ExtensionErrorKind =
  | "bad-extension-length"
  | "bad-mac-length"
  | "extensions-need-v4";

/** Result of parsing the data after the header. */
export type TrailerResult =
  | { ok: true; extensions: ExtensionField[]; mac: MacTrailer | null }
  | { ok: false; kind: ExtensionErrorKind; message: string };

/** Minimum length of an extension field (RFC 7822). */
export const MIN_EXTENSION_LENGTH = 16;
/** Minimum length of the last extension field when no MAC follows (RFC 7822). */
export const MIN_LAST_EXTENSION_LENGTH = 28;
/** Longest trailer of an NTPv4 packet that is taken as a MAC (key ID + 20-octet digest). */
export const MAX_V4_MAC_LENGTH = 24;
/** Longest MAC accepted in packets before NTPv4 (key ID + 64-octet digest). */
export const MAX_MAC_LENGTH: number = 4 + 64;

/** Parses a MAC trailer occupying `bytes[start..]` entirely. */
function parseMac(bytes: Uint8Array, start: number, maxLength: number): TrailerResult {
  const length = bytes.length - start;
  if (length < 4 || length > maxLength || length % 4 !== 0) {
    return {
      ok: false,
      kind: "bad-mac-length",
      message: `trailing ${length} octets are neither extension fields nor a MAC`,
    };
  }
  return {
    ok: true,
    extensions: [],
    mac: {
      keyId: readU32(bytes, start),
      digest: bytes.slice(start + 4),
    },
  };
}

/**
 * Parses everything after the header, starting at `start` (normally 48), for a packet of
 * the given NTP version. Never throws.
 */
export function parseTrailer(bytes: Uint8Array, start: number, version: number): TrailerResult {
  if (start >= bytes.length) return { ok: true, extensions: [], mac: null };
  if (version < 4) {
    const remaining = bytes.length - start;
    if (remaining > MAX_MAC_LENGTH) {
      return {
        ok: false,
        kind: "extensions-need-v4",
        message: `NTPv${version} packet with ${remaining} trailing octets (fields need v4)`,
      };
    }
    return parseMac(bytes, start, MAX_MAC_LENGTH);
  }
  const extensions: ExtensionField[] = [];
  let pos = start;
  while (pos < bytes.length) {
    const remaining = bytes.length - pos;
    if (remaining <= MAX_V4_MAC_LENGTH) {
      const mac = parseMac(bytes, pos, MAX_V4_MAC_LENGTH);
      if (!mac.ok) return mac;
      return { ok: true, extensions, mac: mac.mac };
    }
    const type = readU16(bytes, pos);
    const length = readU16(bytes, pos + 2);
    if (length < MIN_EXTENSION_LENGTH || length % 4 !== 0 || length > remaining) {
      return {
        ok: false,
        kind: "bad-extension-length",
        message: `extension field of type 0x${type.toString(16).padStart(4, "0")} ` +
          `has bad length ${length} (${remaining} octets left)`,
      };
    }
    extensions.push({ type, value: bytes.slice(pos + 4, pos + length) });
    pos += length;
  }
  return { ok: true, extensions, mac: null };
}

/** The encoded length of extension field `index` of `fields` (padding rules applied). */
function encodedFieldLength(fields: ExtensionField[], index: number, hasMac: boolean): number {
  const base = 4 + Math.ceil(fields[index].value.length / 4) * 4;
  const isLast = index === fields.length - 1;
  const minimum = isLast && !hasMac ? MIN_LAST_EXTENSION_LENGTH : MIN_EXTENSION_LENGTH;
  return Math.max(base, minimum);
}

/** Octets that `encodeTrailer` will produce for these fields and MAC. */
export function trailerLength(fields: ExtensionField[], mac: MacTrailer | null): number {
  let total = 0;
  for (let i = 0; i < fields.length; i++) total += encodedFieldLength(fields, i, mac !== null);
  if (mac !== null) total += 4 + mac.digest.length;
  return total;
}

/**
 * Writes the extension fields (zero-padded to a multiple of 4 and to the RFC 7822 minimum
 * lengths) and the MAC into `out` at `start`; returns the offset after the last octet.
 * `out` must have room for `trailerLength(fields, mac)` octets. Values longer than 65532
 * octets cannot be encoded and are truncated.
 */
export function encodeTrailer(
  out: Uint8Array,
  start: number,
  fields: ExtensionField[],
  mac: MacTrailer | null,
): number {
  let pos = start;
  for (let i = 0; i < fields.length; i++) {
    const length = Math.min(0xfffc, encodedFieldLength(fields, i, mac !== null));
    const field = fields[i];
    writeU16(out, pos, field.type);
    writeU16(out, pos + 2, length);
    out.set(field.value.subarray(0, length - 4), pos + 4);
    out.fill(0, pos + 4 + Math.min(field.value.length, length - 4), pos + length);
    pos += length;
  }
  if (mac !== null) {
    writeU32(out, pos, mac.keyId);
    out.set(mac.digest, pos + 4);
    pos += 4 + mac.digest.length;
  }
  return pos;
}
