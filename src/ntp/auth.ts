/**
 * Symmetric-key authentication of NTP packets (RFC 5905 MACs, RFC 8573 AES-CMAC), as chrony
 * does it (keys.c, ntp_auth.c):
 *
 * - the keyfile holds one key per line, `ID [TYPE] KEY`: TYPE defaults to MD5; KEY is ASCII,
 *   `ASCII:text` or `HEX:hexdigits`; lines starting with `!`, `;`, `#` or `%` are comments;
 * - hash keys (MD5, SHA1, SHA256, SHA384, SHA512, SHA3-224/256/384/512) authenticate with
 *   the classic digest `H(key || packet)`; cipher keys (AES128, AES256) with AES-CMAC
 *   (RFC 4493, 16 octets), which needs a key of exactly 16 or 32 octets;
 * - a MAC is the 4-octet key ID followed by the digest, after the header and any extension
 *   fields. In NTPv4 packets the digest is truncated to 20 octets (so a MAC is at most 24
 *   octets, RFC 7822); NTPv3 packets carry up to 64 octets. A received digest is accepted
 *   only with exactly the expected (possibly truncated) length, compared in constant time.
 *
 * Parsing never throws: bad lines come back as typed errors with their line numbers.
 *
 * @module
 */
import { createCipheriv, createHash } from "node:crypto";
import { MAX_MAC_LENGTH, MAX_V4_MAC_LENGTH } from "./extensions.ts";

/** Hash-based key types (digest = H(key || data)). */
export const HASH_KEY_TYPES = {
  "MD5": { algorithm: "md5", length: 16 },
  "SHA1": { algorithm: "sha1", length: 20 },
  "SHA256": { algorithm: "sha256", length: 32 },
  "SHA384": { algorithm: "sha384", length: 48 },
  "SHA512": { algorithm: "sha512", length: 64 },
  "SHA3-224": { algorithm: "sha3-224", length: 28 },
  "SHA3-256": { algorithm: "sha3-256", length: 32 },
  "SHA3-384": { algorithm: "sha3-384", length: 48 },
  "SHA3-512": { algorithm: "sha3-512", length: 64 },
} as const;

/** Cipher-based key types (AES-CMAC) with the exact key length each needs, in octets. */
export const CMAC_KEY_TYPES = {
  "AES128": { algorithm: "aes-128-ecb", keyLength: 16 },
  "AES256": { algorithm: "aes-256-ecb", keyLength: 32 },
} as const;

/** The name of a key type as written in the keyfile. */
export type KeyType = keyof typeof HASH_KEY_TYPES | keyof typeof CMAC_KEY_TYPES;

/** One symmetric key. */
export interface SymmetricKey {
  /** Key ID (32 bits, unsigned). */
  id: number;
  /** Algorithm. */
  type: KeyType;
  /** The secret octets. */
  value: Uint8Array;
  /** Line of the keyfile it came from (0 when not from a file). */
  line: number;
}

/** Why a keyfile line was not taken. */
export type KeyFileErrorKind =
  | "syntax"
  | "bad-id"
  | "unknown-type"
  | "bad-key"
  | "bad-key-length"
  | "duplicate";

/** A keyfile line that was not taken (chronyd logs these and goes on). */
export interface KeyFileError {
  /** 1-based line number. */
  line: number;
  /** The key ID when it could be read, else null. */
  keyId: number | null;
  /** What was wrong. */
  kind: KeyFileErrorKind;
  /** Human-readable message (without the file name). */
  message: string;
}

/** Octets of a MAC's key ID field. */
export const MAC_KEY_ID_LENGTH = 4;
/** Shortest MAC that can authenticate: key ID + 16-octet digest (NTP_MIN_MAC_LENGTH). */
export const MIN_MAC_LENGTH: number = 4 + 16;
export { MAX_MAC_LENGTH, MAX_V4_MAC_LENGTH };
/** Keys shorter than this many octets are weak (chrony's MIN_SECURE_KEY_LENGTH, 80 bits). */
export const MIN_SECURE_KEY_LENGTH = 10;

/** Read-only set of keys by ID. */
export class KeyStore {
  readonly #keys = new Map<number, SymmetricKey>();

  /** Builds a store; with duplicate IDs the first key wins. */
  constructor(keys: Iterable<SymmetricKey> = []) {
    for (const k of keys) if (!this.#keys.has(k.id)) this.#keys.set(k.id, k);
  }

  /** The key with this ID, or null. */
  get(id: number): SymmetricKey | null {
    return this.#keys.get(id) ?? null;
  }

  /** Whether a key with this ID exists. */
  has(id: number): boolean {
    return this.#keys.has(id);
  }

  /** Number of keys. */
  get size(): number {
    return this.#keys.size;
  }

  /** The key IDs, ascending. */
  ids(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  /**
   * Takes the keys of `fresh` (chronyc `rekey`): a key whose ID stays is updated in place,
   * so holders of its object (sources) use the new secret; new IDs are added, missing ones
   * removed.
   */
  replaceWith(fresh: KeyStore): void {
    for (const id of [...this.#keys.keys()]) if (!fresh.has(id)) this.#keys.delete(id);
    for (const id of fresh.ids()) {
      const next = fresh.get(id)!;
      const held = this.#keys.get(id);
      if (held === undefined) this.#keys.set(id, { ...next });
      else Object.assign(held, { type: next.type, value: next.value, line: next.line });
    }
  }
}

/** Result of parsing a keyfile: the usable keys and the lines that were skipped. */
export interface KeyFileResult {
  /** Keys taken. */
  keys: KeyStore;
  /** Lines not taken, in file order. */
  errors: KeyFileError[];
}

/** Decodes "HEX:..." digits; null on odd length or a non-hex character. */
function decodeHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Decodes a key value as chrony does: HEX:, ASCII: or plain ASCII text. */
function decodeKeyValue(text: string): Uint8Array | null {
  if (text.startsWith("HEX:")) return decodeHex(text.slice(4));
  const ascii = text.startsWith("ASCII:") ? text.slice(6) : text;
  return new TextEncoder().encode(ascii);
}

/** Whether `name` is a supported key type. */
export function isKeyType(name: string): name is KeyType {
  return Object.hasOwn(HASH_KEY_TYPES, name) || Object.hasOwn(CMAC_KEY_TYPES, name);
}

/**
 * Parses a chrony keyfile. Never throws: lines that cannot be used come back in `errors`
 * (chronyd skips them with a warning), and the first of duplicate IDs is kept.
 */
export function parseKeyFile(text: string): KeyFileResult {
  const keys: SymmetricKey[] = [];
  const errors: KeyFileError[] = [];
  const seen = new Set<number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const trimmed = lines[i].trim();
    if (trimmed === "" || "!;#%".includes(trimmed[0])) continue;
    const words = trimmed.split(/\s+/);
    if (words.length < 2 || words.length > 3) {
      errors.push({
        line,
        keyId: null,
        kind: "syntax",
        message: "expected ID [TYPE] KEY",
      });
      continue;
    }
    if (!/^\d{1,10}$/.test(words[0]) || Number(words[0]) > 0xffffffff) {
      errors.push({
        line,
        keyId: null,
        kind: "bad-id",
        message: `bad key ID ${JSON.stringify(words[0])}`,
      });
      continue;
    }
    const id = Number(words[0]);
    const typeName = words.length === 3 ? words[1] : "MD5";
    const valueText = words[words.length - 1];
    if (!isKeyType(typeName)) {
      errors.push({
        line,
        keyId: id,
        kind: "unknown-type",
        message: `key ${id} has unknown type ${JSON.stringify(typeName)} (supported: ${
          [...Object.keys(HASH_KEY_TYPES), ...Object.keys(CMAC_KEY_TYPES)].join(", ")
        })`,
      });
      continue;
    }
    const value = decodeKeyValue(valueText);
    if (value === null || value.length === 0) {
      errors.push({
        line,
        keyId: id,
        kind: "bad-key",
        message: `could not decode key ${id} (HEX: needs an even number of hex digits)`,
      });
      continue;
    }
    if (Object.hasOwn(CMAC_KEY_TYPES, typeName)) {
      const need = CMAC_KEY_TYPES[typeName as keyof typeof CMAC_KEY_TYPES].keyLength;
      if (value.length !== need) {
        errors.push({
          line,
          keyId: id,
          kind: "bad-key-length",
          message: `${typeName} key ${id} has ${value.length * 8} bits (expected ${need * 8})`,
        });
        continue;
      }
    }
    if (seen.has(id)) {
      errors.push({ line, keyId: id, kind: "duplicate", message: `duplicate key ${id}` });
      continue;
    }
    seen.add(id);
    keys.push({ id, type: typeName, value, line });
  }
  return { keys: new KeyStore(keys), errors };
}

/** Full length of the digest a key produces, in octets (16 for AES-CMAC). */
export function digestLength(key: SymmetricKey): number {
  if (Object.hasOwn(HASH_KEY_TYPES, key.type)) {
    return HASH_KEY_TYPES[key.type as keyof typeof HASH_KEY_TYPES].length;
  }
  return 16;
}

/** An AES block encryptor (ECB, no padding) per CMAC key, reused across MACs. */
interface BlockCipher {
  update(data: Uint8Array): Uint8Array;
}

const cmacState = new WeakMap<
  SymmetricKey,
  { cipher: BlockCipher; k1: Uint8Array; k2: Uint8Array }
>();

/** Doubles a 128-bit block in GF(2^128) (RFC 4493 subkey generation). */
function dbl(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((block[i] << 1) | (i < 15 ? block[i + 1] >> 7 : 0)) & 0xff;
  if (block[0] & 0x80) out[15] ^= 0x87;
  return out;
}

/** The cipher and subkeys of a CMAC key, computed once. */
function cmacFor(key: SymmetricKey) {
  let state = cmacState.get(key);
  if (state === undefined) {
    const spec = CMAC_KEY_TYPES[key.type as keyof typeof CMAC_KEY_TYPES];
    const c = createCipheriv(spec.algorithm, key.value, null);
    c.setAutoPadding(false);
    const cipher: BlockCipher = { update: (d) => new Uint8Array(c.update(d)) };
    const l = cipher.update(new Uint8Array(16));
    const k1 = dbl(l);
    state = { cipher, k1, k2: dbl(k1) };
    cmacState.set(key, state);
  }
  return state;
}

/** AES-CMAC (RFC 4493) of `data` with a 16- or 32-octet AES key: 16 octets. */
export function aesCmac(key: SymmetricKey, data: Uint8Array): Uint8Array {
  const { cipher, k1, k2 } = cmacFor(key);
  const blocks = Math.max(1, Math.ceil(data.length / 16));
  const complete = data.length > 0 && data.length % 16 === 0;
  let x: Uint8Array = new Uint8Array(16);
  const y = new Uint8Array(16);
  for (let b = 0; b < blocks; b++) {
    const start = b * 16;
    const last = b === blocks - 1;
    for (let i = 0; i < 16; i++) {
      const p = start + i;
      let m = p < data.length ? data[p] : p === data.length ? 0x80 : 0;
      if (last) m ^= complete ? k1[i] : k2[i];
      y[i] = x[i] ^ m;
    }
    x = cipher.update(y);
  }
  return x;
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

/** Reads a big-endian u32. */
function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

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
    keyId: u32(bytes, start),
    start,
    length: bytes.length - start,
  });
  if (version <= 3) {
    return bytes.length - header <= MAX_MAC_LENGTH ? mac(header) : { kind: "invalid" };
  }
  if (bytes.length - header === 4 && u32(bytes, header) === 0) return mac(header);
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
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
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
