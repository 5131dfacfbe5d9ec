/**
 * AES-CMAC (RFC 4493) of NTP packets with AES128/AES256 keys (RFC 8573): 16-octet MACs.
 * The cipher and subkeys of each key are computed once and kept beside the key object.
 *
 * @module
 */
import { createCipheriv } from "node:crypto";
import { CMAC_KEY_TYPES, type SymmetricKey } from "./keyfile.ts";

/** An AES block encryptor (ECB, no padding) per CMAC key, reused across MACs. */
interface BlockCipher {
  update(data: Uint8Array): Uint8Array;
}

const cmacState = new WeakMap<
  SymmetricKey,
  { cipher: BlockCipher; k1: Uint8Array; k2: Uint8Array }
>();

/** Doubles a 128-bit block in GF(2^128) (RFC 4493 subkey generation, RFC 5297 dbl()). */
export function dbl(block: Uint8Array): Uint8Array {
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
