/**
 * Chrony keyfiles (keys.c): key types, the parsed keys and the store that holds them.
 *
 * - the keyfile holds one key per line, `ID [TYPE] KEY`: TYPE defaults to MD5; KEY is ASCII,
 *   `ASCII:text` or `HEX:hexdigits`; lines starting with `!`, `;`, `#` or `%` are comments;
 * - hash keys (MD5, SHA1, SHA256, SHA384, SHA512, SHA3-224/256/384/512) authenticate with
 *   the classic digest `H(key || packet)`; cipher keys (AES128, AES256) with AES-CMAC
 *   (RFC 4493), which needs a key of exactly 16 or 32 octets.
 *
 * Parsing never throws: bad lines come back as typed errors with their line numbers.
 *
 * @module
 */

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
