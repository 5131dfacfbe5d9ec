/**
 * AES-CMAC (RFC 4493) of NTP packets with AES128/AES256 keys (RFC 8573): 16-octet MACs.
 * The cipher and subkeys of each key are computed once and kept beside the key object.
 * NTS's AES-SIV (src/nts/aead.ts) takes the same CMAC under a raw AES-128 key.
 *
 * @module
 */
import { createCipheriv } from "node:crypto";
import { CMAC_KEY_TYPES, type SymmetricKey } from "./keyfile.ts";

/** An AES block encryptor (ECB, no padding) per CMAC key, reused across MACs. */
interface BlockCipher {
  update(data: Uint8Array): Uint8Array;
}

/** An AES key's block encryptor and CMAC subkeys. */
interface CmacState {
  /** AES-ECB without padding under the key. */
  cipher: BlockCipher;
  /** Subkey for a complete last block. */
  k1: Uint8Array;
  /** Subkey for a padded last block. */
  k2: Uint8Array;
}

const cmacStates = new WeakMap<SymmetricKey, CmacState>();

/** Doubles a 128-bit block in GF(2^128) (RFC 4493 subkey generation, RFC 5297 dbl()). */
export function dbl(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((block[i] << 1) | (i < 15 ? block[i + 1] >> 7 : 0)) & 0xff;
  if (block[0] & 0x80) out[15] ^= 0x87;
  return out;
}

/** The cipher and subkeys of a raw AES key under an ECB `algorithm` ("aes-128-ecb"). */
function cmacState(algorithm: string, key: Uint8Array): CmacState {
  const c = createCipheriv(algorithm, key, null);
  c.setAutoPadding(false);
  const cipher: BlockCipher = { update: (d) => new Uint8Array(c.update(d)) };
  const k1 = dbl(cipher.update(new Uint8Array(16)));
  return { cipher, k1, k2: dbl(k1) };
}

/** The cipher and subkeys of a CMAC key, computed once. */
function cmacFor(key: SymmetricKey): CmacState {
  let state = cmacStates.get(key);
  if (state === undefined) {
    const spec = CMAC_KEY_TYPES[key.type as keyof typeof CMAC_KEY_TYPES];
    state = cmacState(spec.algorithm, key.value);
    cmacStates.set(key, state);
  }
  return state;
}

/** AES-CMAC (RFC 4493) of `data` with a 16- or 32-octet AES key: 16 octets. */
export function aesCmac(key: SymmetricKey, data: Uint8Array): Uint8Array {
  return cmacOf(cmacFor(key), data);
}

/** AES-CMAC (RFC 4493) under a raw 16-octet AES-128 key, as a function of the message. */
export function aes128Cmac(key: Uint8Array): (data: Uint8Array) => Uint8Array {
  const state = cmacState("aes-128-ecb", key);
  return (data) => cmacOf(state, data);
}

/** The 16-octet CMAC of `data` under a key's cipher and subkeys. */
function cmacOf({ cipher, k1, k2 }: CmacState, data: Uint8Array): Uint8Array {
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
