/**
 * Symmetric-key authentication of NTP packets (RFC 5905 MACs, RFC 8573 AES-CMAC), as chrony
 * does it (keys.c, ntp_auth.c): computing, appending, locating and checking the MAC trailer.
 * The keys come from ./keyfile.ts, AES-CMAC from ./cmac.ts.
 *
 * - a MAC is the 4-octet key ID followed by the digest, after the header and any extension
 *   fields. In NTPv4 packets the digest is truncated to 20 octets (so a MAC is at most 24
 *   octets, RFC 7822); NTPv3 packets carry up to 64 octets. A received digest is accepted
 *   only with exactly the expected (possibly truncated) length, compared in constant time.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { MAX_MAC_LENGTH, MAX_V4_MAC_LENGTH } from "./extensions.ts";
import { HASH_KEY_TYPES, type KeyStore, type SymmetricKey } from "./keyfile.ts";
import { aesCmac } from "./cmac.ts";
import { readU16, readU32 } from "../base/bytes.ts";

/** Octets of a MAC's key ID field. */
export const MAC_KEY_ID_LENGTH = 4;
/** Shortest MAC that can authenticate: key ID + 16-octet digest (NTP_MIN_MAC_LENGTH). */
export const MIN_MAC_LENGTH: number = 4 + 16;
export { MAX_MAC_LENGTH, MAX_V4_MAC_LENGTH };

/** Full length of the digest a key produces, in octets (16 for AES-CMAC). */
export function digestLength(key: SymmetricKey): number {
  if (Object.hasOwn(HASH_KEY_TYPES, key.type)) {
    return HASH_KEY_TYPES[key.type as keyof typeof HASH_KEY_TYPES].length;
  }
  return 16;
}

/**
 * The digest of `data` with `key`, truncated to `maxLength` octets: H(key || data) for
 * hash keys, AES-CMAC for cipher keys (chrony KEY_GenerateAuth).
 */
export function computeDigest(key: SymmetricKey, data: Uint8Array, maxLength = 64): Uint8Array {
  let full: Uint8Array;
  if (Object.hasOwn(HASH_KEY_TYPES, key.type)) {
    const spec = HASH_KEY_TYPES[key.type as keyof typeof HASH_KEY_TYPES];
    full = new Uint8Array(createHash(spec.algorithm).update(key.value).update(data).digest());
  } else {
    full = aesCmac(key, data);
  }
  return full.length > maxLength ? full.slice(0, maxLength) : full;
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Whether `digest` authenticates `data` with `key`: it must be exactly the key's digest
 * truncated to `truncLength` octets (chrony KEY_CheckAuth).
 */
export function verifyDigest(
  key: SymmetricKey,
  data: Uint8Array,
  digest: Uint8Array,
  truncLength: number,
): boolean {
  const expected = computeDigest(key, data, truncLength);
  return constantTimeEqual(expected, digest);
}

/** Largest digest a packet of this NTP version carries (20 in NTPv4, else 64). */
export function maxDigestLength(version: number): number {
  return (version === 4 ? MAX_V4_MAC_LENGTH : MAX_MAC_LENGTH) - MAC_KEY_ID_LENGTH;
}

/**
 * The NTP version a client with this key should send (chrony NAU_GetSuggestedNtpVersion):
 * NTPv3 when the full MAC would not fit an NTPv4 packet (SHA256 and longer), else `version`.
 */
export function suggestedVersion(key: SymmetricKey, version: number): number {
  return version === 4 && MAC_KEY_ID_LENGTH + digestLength(key) > MAX_V4_MAC_LENGTH ? 3 : version;
}

/**
 * Appends a MAC with `key` to the packet octets `data` (header and extension fields) and
 * returns the new packet. The digest is truncated for the packet's version.
 */
export function appendMac(data: Uint8Array, key: SymmetricKey): Uint8Array {
  const version = (data[0] >> 3) & 7;
  const digest = computeDigest(key, data, maxDigestLength(version));
  const out = new Uint8Array(data.length + MAC_KEY_ID_LENGTH + digest.length);
  out.set(data, 0);
  new DataView(out.buffer).setUint32(data.length, key.id >>> 0);
  out.set(digest, data.length + MAC_KEY_ID_LENGTH);
  return out;
}

/**
 * Writes a MAC with `key` into `out` after its first `dataLength` octets (the packet
 * without MAC); returns the total length. `out` needs room for 4 + 64 more octets.
 */
export function writeMac(out: Uint8Array, dataLength: number, key: SymmetricKey): number {
  const version = (out[0] >> 3) & 7;
  const digest = computeDigest(key, out.subarray(0, dataLength), maxDigestLength(version));
  new DataView(out.buffer, out.byteOffset).setUint32(dataLength, key.id >>> 0);
  out.set(digest, dataLength + MAC_KEY_ID_LENGTH);
  return dataLength + MAC_KEY_ID_LENGTH + digest.length;
}

/** Where a packet's MAC is, as chrony's NAU_ParsePacket finds it. */
export type MacLocation =
  | { kind: "none" }
  | { kind: "mac"; keyId: number; start: number; length: number }
  | { kind: "invalid" };

/**
 * Finds the MAC of an NTP packet like chrony: everything after the header of an NTPv3 (or
 * older) packet; a 4-octet crypto-NAK; in NTPv4, whatever follows the extension fields
 * when 20 to 24 octets remain, or a longer MAC (up to 68 octets) right after the header if
 * it authenticates with a key of `keys`. Never throws.
 */
export function locateMac(bytes: Uint8Array, keys: KeyStore | null): MacLocation {
  const header = 48;
  if (bytes.length <= header) return { kind: "none" };
  if (bytes.length % 4 !== 0) return { kind: "invalid" };
  const version = (bytes[0] >> 3) & 7;
  const mac = (start: number): MacLocation => ({
    kind: "mac",
    keyId: readU32(bytes, start),
    start,
    length: bytes.length - start,
  });
  if (version <= 3) {
    return bytes.length - header <= MAX_MAC_LENGTH ? mac(header) : { kind: "invalid" };
  }
  if (bytes.length - header === 4 && readU32(bytes, header) === 0) return mac(header);
  let pos = header;
  while (pos < bytes.length) {
    const remaining = bytes.length - pos;
    if (remaining >= MIN_MAC_LENGTH && remaining <= MAX_V4_MAC_LENGTH) break;
    if (
      pos === header && remaining > MAX_V4_MAC_LENGTH && remaining <= MAX_MAC_LENGTH &&
      keys !== null && checkMacAt(bytes, mac(pos) as MacAt, keys, MAX_MAC_LENGTH)
    ) {
      break;
    }
    if (remaining < 16) return { kind: "invalid" };
    const length = readU16(bytes, pos + 2);
    if (length < 16 || length % 4 !== 0 || length > remaining) return { kind: "invalid" };
    pos += length;
  }
  if (pos === bytes.length) return { kind: "none" };
  return bytes.length - pos >= MIN_MAC_LENGTH ? mac(pos) : { kind: "invalid" };
}

type MacAt = { kind: "mac"; keyId: number; start: number; length: number };

/** Checks a located MAC against the key it names, with chrony's truncation rule. */
function checkMacAt(bytes: Uint8Array, at: MacAt, keys: KeyStore, truncMac: number): boolean {
  if (at.length < MIN_MAC_LENGTH) return false;
  const key = keys.get(at.keyId);
  if (key === null) return false;
  return verifyDigest(
    key,
    bytes.subarray(0, at.start),
    bytes.subarray(at.start + MAC_KEY_ID_LENGTH, at.start + at.length),
    truncMac - MAC_KEY_ID_LENGTH,
  );
}

/** The verdict on a packet's authentication. */
export type AuthCheck =
  | { kind: "none" }
  | { kind: "ok"; key: SymmetricKey; macLength: number }
  | { kind: "bad"; keyId: number | null; reason: string };

/**
 * Locates and verifies a packet's MAC (chrony check_symmetric_auth): a MAC shorter than
 * 20 octets (e.g. a crypto-NAK), an unknown key ID or a wrong or wrongly truncated digest
 * is "bad"; a packet without MAC is "none". Never throws.
 */
export function checkPacketAuth(bytes: Uint8Array, keys: KeyStore | null): AuthCheck {
  const at = locateMac(bytes, keys);
  if (at.kind === "none") return { kind: "none" };
  if (at.kind === "invalid") return { kind: "bad", keyId: null, reason: "malformed trailer" };
  if (at.length < MIN_MAC_LENGTH) {
    return { kind: "bad", keyId: at.keyId, reason: at.keyId === 0 ? "crypto-NAK" : "short MAC" };
  }
  const key = keys?.get(at.keyId) ?? null;
  if (key === null) return { kind: "bad", keyId: at.keyId, reason: `unknown key ${at.keyId}` };
  const version = (bytes[0] >> 3) & 7;
  const trunc = version === 4 && at.length <= MAX_V4_MAC_LENGTH
    ? MAX_V4_MAC_LENGTH
    : MAX_MAC_LENGTH;
  if (!checkMacAt(bytes, at, keys as KeyStore, trunc)) {
    return { kind: "bad", keyId: at.keyId, reason: `wrong MAC with key ${at.keyId}` };
  }
  return { kind: "ok", key, macLength: at.length };
}
