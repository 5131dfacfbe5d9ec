/**
 * Server-side NTS cookies (RFC 8915 section 6 leaves the format to the server). A cookie
 * carries the association's two keys sealed under a server master key:
 *
 *     key ID (32 bits) | nonce (16) | AES-SIV tag (16) | ciphertext of [C2S key (32), S2C key (32)]
 *
 * 100 octets in all, as chrony's (a multiple of 4, so NTP padding never changes it). The AEAD
 * is AEAD_AES_SIV_CMAC_256, the only one served: another would need its own key IDs. The key ID (also the
 * associated data) names the master key, so keys can rotate while older cookies still open.
 * Opening never throws: an unknown key ID, a wrong length or a failed tag give null.
 *
 * @module
 */
import { AEAD_AES_SIV_CMAC_256, aeadOpen, aeadSeal, SIV_KEY_LENGTH } from "./aead.ts";
import { readU32, writeU32 } from "../base/bytes.ts";

/** Length of a cookie made here. */
export const COOKIE_LENGTH = 100;
const NONCE_LENGTH = 16;
const PLAINTEXT_LENGTH = 2 * SIV_KEY_LENGTH;

/** One master key for sealing cookies. */
export interface CookieKey {
  /** Identifier written into each cookie (32 bits). */
  id: number;
  /** 32-octet AES-SIV key. */
  key: Uint8Array;
}

/** The keys inside a cookie. */
export interface CookieContents {
  /** AEAD algorithm the keys are for. */
  aeadId: number;
  /** Client-to-server key. */
  c2sKey: Uint8Array;
  /** Server-to-client key. */
  s2cKey: Uint8Array;
}

/** Seals `contents` into a cookie under `master`, with a fresh 16-octet `nonce`. */
export function makeCookie(
  master: CookieKey,
  nonce: Uint8Array,
  contents: CookieContents,
): Uint8Array {
  if (nonce.length !== NONCE_LENGTH) throw new RangeError("cookie nonce must be 16 octets");
  if (contents.c2sKey.length !== SIV_KEY_LENGTH || contents.s2cKey.length !== SIV_KEY_LENGTH) {
    throw new RangeError(`cookie keys must be ${SIV_KEY_LENGTH} octets`);
  }
  if (contents.aeadId !== AEAD_AES_SIV_CMAC_256) {
    throw new RangeError(`cookies hold keys of AEAD ${AEAD_AES_SIV_CMAC_256} only`);
  }
  const plaintext = new Uint8Array(PLAINTEXT_LENGTH);
  plaintext.set(contents.c2sKey, 0);
  plaintext.set(contents.s2cKey, SIV_KEY_LENGTH);
  const out = new Uint8Array(COOKIE_LENGTH);
  writeU32(out, 0, master.id);
  out.set(nonce, 4);
  out.set(aeadSeal(master.key, nonce, out.subarray(0, 4), plaintext), 4 + NONCE_LENGTH);
  return out;
}

/**
 * Opens a cookie with whichever of `masters` its key ID names. Returns null when the
 * cookie is malformed, names no known key, or does not authenticate. Never throws.
 */
export function openCookie(
  masters: readonly CookieKey[],
  cookie: Uint8Array,
): CookieContents | null {
  if (cookie.length !== COOKIE_LENGTH) return null;
  const id = readU32(cookie, 0);
  const master = masters.find((m) => m.id >>> 0 === id);
  if (master === undefined || master.key.length !== SIV_KEY_LENGTH) return null;
  let plaintext: Uint8Array | null;
  try {
    plaintext = aeadOpen(
      master.key,
      cookie.subarray(4, 4 + NONCE_LENGTH),
      cookie.subarray(0, 4),
      cookie.subarray(4 + NONCE_LENGTH),
    );
  } catch {
    return null;
  }
  if (plaintext === null || plaintext.length !== PLAINTEXT_LENGTH) return null;
  return {
    aeadId: AEAD_AES_SIV_CMAC_256,
    c2sKey: plaintext.slice(0, SIV_KEY_LENGTH),
    s2cKey: plaintext.slice(SIV_KEY_LENGTH),
  };
}
