/**
 * AEAD_AES_SIV_CMAC_256 (RFC 5297, NTS AEAD algorithm 15) on OpenSSL 3's `AES-128-SIV`.
 *
 * The key is 32 octets (a CMAC key and a CTR key, both AES-128). The output is the 16-octet
 * synthetic IV (the tag) followed by the ciphertext, as RFC 5297 and RFC 8915 lay it out.
 * Each associated-data component is one AAD update (OpenSSL's SIV folds every update with a
 * NULL output into S2V as a separate string); for the RFC 5116 interface NTS uses, the
 * components are the associated data then the nonce.
 *
 * OpenSSL 3.0's SIV computes the tag only while it encrypts or decrypts a non-empty text, so
 * for an empty plaintext (an NTS request with no encrypted fields) the tag is computed here
 * by S2V (RFC 5297 section 2.4) over the AES-CMAC (RFC 4493) of src/ntp/cmac.ts.
 *
 * Decryption returns null when the tag does not verify (never throws on bad input); a
 * missing OpenSSL or a bad key length throws.
 *
 * @module
 */
import {
  EVP_CTRL_AEAD_GET_TAG,
  EVP_CTRL_AEAD_SET_TAG,
  type LibCrypto,
  libcrypto,
  OpensslError,
  opensslErrors,
} from "../../ffi/openssl.ts";
import { constantTimeEqual } from "../ntp/auth.ts";
import { aes128Cmac, dbl } from "../ntp/cmac.ts";

/** NTS AEAD algorithm identifier of AEAD_AES_SIV_CMAC_256 (IANA AEAD registry). */
export const AEAD_AES_SIV_CMAC_256 = 15;
/** Key length of AEAD_AES_SIV_CMAC_256 in octets. */
export const SIV_KEY_LENGTH = 32;
/** Length of the synthetic IV (tag) in octets. */
export const SIV_TAG_LENGTH = 16;

let siv: Deno.PointerValue = null;

/** OpenSSL's AES-128-SIV (fetched once, kept for the process lifetime). */
function sivCipher(lib: LibCrypto): NonNullable<Deno.PointerValue> {
  siv ??= lib.EVP_CIPHER_fetch(null, new TextEncoder().encode("AES-128-SIV\0"), null);
  if (siv === null) throw new OpensslError("EVP_CIPHER_fetch(AES-128-SIV)");
  return siv;
}

function xorInto(target: Uint8Array, source: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] ^= source[i];
}

/** The SIV tag for an empty plaintext: S2V(K1, components..., "") per RFC 5297 2.4. */
function emptyPlaintextTag(key: Uint8Array, associated: readonly Uint8Array[]): Uint8Array {
  const cmac = aes128Cmac(key.subarray(0, 16));
  let d = cmac(new Uint8Array(16));
  for (const component of associated) {
    d = dbl(d);
    xorInto(d, cmac(component));
  }
  const t = dbl(d);
  t[0] ^= 0x80;
  return cmac(t);
}

function checkKey(key: Uint8Array): void {
  if (key.length !== SIV_KEY_LENGTH) {
    throw new RangeError(
      `AES-SIV-CMAC-256 key must be ${SIV_KEY_LENGTH} octets, not ${key.length}`,
    );
  }
}

/** A copy whose buffer is non-empty (FFI may pass NULL for an empty buffer). */
function nonEmpty(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.max(1, bytes.length));
  out.set(bytes);
  return out;
}

/**
 * Encrypts `plaintext` under `key` with the given associated-data components (in order).
 * Returns tag ‖ ciphertext (16 + plaintext.length octets). Throws only on a bad key length
 * or an OpenSSL failure.
 */
export function sivEncrypt(
  key: Uint8Array,
  associated: readonly Uint8Array[],
  plaintext: Uint8Array,
): Uint8Array {
  checkKey(key);
  if (plaintext.length === 0) return emptyPlaintextTag(key, associated);
  const lib = libcrypto();
  const ctx = lib.EVP_CIPHER_CTX_new();
  if (ctx === null) throw new OpensslError("EVP_CIPHER_CTX_new");
  try {
    const outLen = new Int32Array(1);
    if (lib.EVP_EncryptInit_ex(ctx, sivCipher(lib), null, nonEmpty(key), null) !== 1) {
      throw new OpensslError("EVP_EncryptInit_ex");
    }
    for (const component of associated) {
      const ok = lib.EVP_EncryptUpdate(ctx, null, outLen, nonEmpty(component), component.length);
      if (ok !== 1) throw new OpensslError("EVP_EncryptUpdate(aad)");
    }
    const out = new Uint8Array(SIV_TAG_LENGTH + plaintext.length);
    const body = new Uint8Array(Math.max(1, plaintext.length));
    if (
      lib.EVP_EncryptUpdate(ctx, body, outLen, nonEmpty(plaintext), plaintext.length) !== 1
    ) {
      throw new OpensslError("EVP_EncryptUpdate");
    }
    if (lib.EVP_EncryptFinal_ex(ctx, new Uint8Array(16), outLen) !== 1) {
      throw new OpensslError("EVP_EncryptFinal_ex");
    }
    const tag = new Uint8Array(SIV_TAG_LENGTH);
    if (lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SIV_TAG_LENGTH, tag) !== 1) {
      throw new OpensslError("EVP_CIPHER_CTX_ctrl(GET_TAG)");
    }
    out.set(tag);
    out.set(body.subarray(0, plaintext.length), SIV_TAG_LENGTH);
    return out;
  } finally {
    lib.EVP_CIPHER_CTX_free(ctx);
  }
}

/**
 * Verifies and decrypts `sealed` (tag ‖ ciphertext) under `key` with the associated-data
 * components. Returns the plaintext, or null when `sealed` is shorter than a tag or the tag
 * does not verify. Throws only on a bad key length or when OpenSSL is unusable.
 */
export function sivDecrypt(
  key: Uint8Array,
  associated: readonly Uint8Array[],
  sealed: Uint8Array,
): Uint8Array | null {
  checkKey(key);
  if (sealed.length < SIV_TAG_LENGTH) return null;
  if (sealed.length === SIV_TAG_LENGTH) {
    return constantTimeEqual(sealed, emptyPlaintextTag(key, associated)) ? new Uint8Array(0) : null;
  }
  const lib = libcrypto();
  const ctx = lib.EVP_CIPHER_CTX_new();
  if (ctx === null) throw new OpensslError("EVP_CIPHER_CTX_new");
  try {
    const outLen = new Int32Array(1);
    if (lib.EVP_DecryptInit_ex(ctx, sivCipher(lib), null, nonEmpty(key), null) !== 1) {
      throw new OpensslError("EVP_DecryptInit_ex");
    }
    const tag = sealed.slice(0, SIV_TAG_LENGTH);
    if (lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SIV_TAG_LENGTH, tag) !== 1) {
      throw new OpensslError("EVP_CIPHER_CTX_ctrl(SET_TAG)");
    }
    for (const component of associated) {
      const ok = lib.EVP_DecryptUpdate(ctx, null, outLen, nonEmpty(component), component.length);
      if (ok !== 1) throw new OpensslError("EVP_DecryptUpdate(aad)");
    }
    const ciphertext = sealed.subarray(SIV_TAG_LENGTH);
    const body = new Uint8Array(Math.max(1, ciphertext.length));
    const updated = lib.EVP_DecryptUpdate(
      ctx,
      body,
      outLen,
      nonEmpty(ciphertext),
      ciphertext.length,
    );
    const finished = updated === 1 && lib.EVP_DecryptFinal_ex(ctx, new Uint8Array(16), outLen);
    if (finished !== 1) {
      opensslErrors();
      return null;
    }
    return body.slice(0, ciphertext.length);
  } finally {
    lib.EVP_CIPHER_CTX_free(ctx);
  }
}

/**
 * The RFC 5116 interface NTS uses: associated data `ad` and a nonce, sealed as tag ‖
 * ciphertext (RFC 8915 section 5.6).
 */
export function aeadSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  return sivEncrypt(key, [ad, nonce], plaintext);
}

/** Opens what `aeadSeal` produced; null when authentication fails. */
export function aeadOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | null {
  return sivDecrypt(key, [ad, nonce], sealed);
}
