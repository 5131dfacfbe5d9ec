/**
 * The NTS server's cookie master keys: the current one seals new cookies, the previous
 * ones still open cookies handed out before a rotation (`ntsrotate`), so clients are not
 * sent NAKs the moment keys change. The set is kept in `ntsdumpdir/ntskeys` (as chrony does)
 * so a restart, or several servers sharing the file, accept each other's cookies. Decoding
 * never throws.
 *
 * @module
 */
import type { CookieKey } from "./cookies.ts";
import { hex } from "./cookie_dump.ts";

/** Master keys kept: the current one and the two before it (chrony keeps 3 too). */
export const KEPT_KEYS = 3;
/** Longest key file accepted, octets. */
export const MAX_KEY_FILE_LENGTH = 4096;
const FORMAT = "tempus-nts-server-keys/1";

/** The keys, newest first, and when the newest was made (Unix seconds). */
export interface ServerKeySet {
  /** Newest first; the first one seals new cookies. */
  keys: CookieKey[];
  /** When keys[0] was made, Unix seconds. */
  created: number;
}

/** A fresh key set of one random key. */
export function newKeySet(random: (n: number) => Uint8Array, now: number): ServerKeySet {
  const id = new DataView(random(4).buffer).getUint32(0);
  return { keys: [{ id, key: random(32) }], created: now };
}

/** The set after one rotation: a new current key, at most KEPT_KEYS kept. */
export function rotateKeys(
  set: ServerKeySet,
  random: (n: number) => Uint8Array,
  now: number,
): ServerKeySet {
  const id = ((set.keys[0]?.id ?? 0) + 1) >>> 0;
  return { keys: [{ id, key: random(32) }, ...set.keys].slice(0, KEPT_KEYS), created: now };
}

/** The key file's text. */
export function encodeKeySet(set: ServerKeySet): string {
  return JSON.stringify({
    format: FORMAT,
    created: set.created,
    keys: set.keys.map((k) => ({ id: k.id, key: hex(k.key) })),
  }) + "\n";
}

/** Decodes a key file; null when it is not a valid one. Never throws. */
export function decodeKeySet(text: string): ServerKeySet | null {
  if (text.length > MAX_KEY_FILE_LENGTH) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.format !== FORMAT || typeof o.created !== "number" || !Number.isFinite(o.created)) {
    return null;
  }
  if (!Array.isArray(o.keys) || o.keys.length === 0 || o.keys.length > KEPT_KEYS) return null;
  const keys: CookieKey[] = [];
  for (const k of o.keys) {
    if (typeof k !== "object" || k === null) return null;
    const { id, key } = k as Record<string, unknown>;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0xffffffff) return null;
    if (typeof key !== "string" || !/^[0-9a-f]{64}$/.test(key)) return null;
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = parseInt(key.slice(2 * i, 2 * i + 2), 16);
    keys.push({ id, key: bytes });
  }
  return { keys, created: o.created };
}
