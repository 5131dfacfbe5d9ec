import assert from "node:assert/strict";
import { aeadOpen, aeadSeal, SIV_TAG_LENGTH, sivDecrypt, sivEncrypt } from "./aead.ts";
import { aes128Cmac } from "../ntp/cmac.ts";
import { opensslAvailable } from "../../ffi/openssl.ts";

const ignore = !opensslAvailable();

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test({
  name: "AES-SIV: RFC 5297 A.1 deterministic example, sealed and opened",
  ignore,
  fn() {
    const key = hex("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff");
    const ad = hex("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627");
    const plaintext = hex("11223344 55667788 99aabbcc ddee");
    const sealed = sivEncrypt(key, [ad], plaintext);
    assert.equal(
      toHex(sealed),
      "85632d07c6e8f37f950acd320a2ecc93" + "40c02b9690c4dc04daef7f6afe5c",
    );
    assert.deepEqual(sivDecrypt(key, [ad], sealed), plaintext);
  },
});

Deno.test({
  name: "AES-SIV: RFC 5297 A.2 nonce-based example (two AD components then the nonce)",
  ignore,
  fn() {
    const key = hex("7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f");
    const ad1 = hex(
      "00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100",
    );
    const ad2 = hex("10203040 50607080 90a0");
    const nonce = hex("09f91102 9d74e35b d84156c5 635688c0");
    const plaintext = hex(
      "74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 " +
        "696e6720 5349562d 414553",
    );
    const sealed = sivEncrypt(key, [ad1, ad2, nonce], plaintext);
    assert.equal(
      toHex(sealed),
      "7bdb6e3b432667eb06f4d14bff2fbd0f" +
        "cb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748ba8af829ea64ad544a272e9c" +
        "485b62a3fd5c0d",
    );
    assert.deepEqual(sivDecrypt(key, [ad1, ad2, nonce], sealed), plaintext);
  },
});

// Known answers for the RFC 5116 form (AD then nonce) with empty parts, as NTS uses it: the
// client's request has no encrypted fields, so the plaintext is empty. Vectors as published
// in chrony's test/unit/siv.c (which runs them on Nettle and GnuTLS).
const KEY = hex("0123456789abcdeff0123456789abcdeef0123456789abcddef0123456789abc");
const NONCE = hex("101112131415161718191a1b1c1d1e1f");
const AD = hex("4c9d4fcaed8ae2baad3f3ea6e93c8c8b");

Deno.test({
  name: "AES-SIV: empty AD and empty plaintext, AD and empty plaintext, empty AD",
  ignore,
  fn() {
    const empty = new Uint8Array(0);
    assert.equal(toHex(aeadSeal(KEY, NONCE, empty, empty)), "223eb594e0e0254b00258e219a1ca421");
    assert.equal(toHex(aeadSeal(KEY, NONCE, AD, empty)), "d7201989c6dbc6d661fc62bc865eeeef");
    assert.equal(
      toHex(aeadSeal(KEY, NONCE, empty, AD)),
      "b6c160e9c2fd2ae8dec5368b2a33ede114ffb397345ccbe44aa4deacd9369046",
    );
    const plaintext = hex("ba997931237e3c53587ed49302abe4a7");
    const sealed = aeadSeal(KEY, NONCE, AD, plaintext);
    assert.equal(
      toHex(sealed),
      "5c052365f4570aa0fb383ece9b7585eb688519360c7c481140cb9b579a0e6532",
    );
    assert.deepEqual(aeadOpen(KEY, NONCE, AD, sealed), plaintext);
    assert.deepEqual(aeadOpen(KEY, NONCE, AD, aeadSeal(KEY, NONCE, AD, empty)), empty);
  },
});

Deno.test({
  name: "AES-SIV: any flipped bit of tag, ciphertext, AD or nonce is rejected",
  ignore,
  fn() {
    const plaintext = hex("ba997931237e3c53587ed49302abe4a7");
    const sealed = aeadSeal(KEY, NONCE, AD, plaintext);
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i] ^= 1 << (i % 8);
      assert.equal(aeadOpen(KEY, NONCE, AD, bad), null, `flip at octet ${i} accepted`);
    }
    const badAd = AD.slice();
    badAd[3] ^= 0x80;
    assert.equal(aeadOpen(KEY, NONCE, badAd, sealed), null);
    const badNonce = NONCE.slice();
    badNonce[0] ^= 1;
    assert.equal(aeadOpen(KEY, badNonce, AD, sealed), null);
    const badKey = KEY.slice();
    badKey[31] ^= 1;
    assert.equal(aeadOpen(badKey, NONCE, AD, sealed), null);
    assert.equal(aeadOpen(KEY, NONCE, AD, sealed.subarray(0, SIV_TAG_LENGTH - 1)), null);
    // The empty-plaintext seal (just a tag) is authenticated too.
    const tagOnly = aeadSeal(KEY, NONCE, AD, new Uint8Array(0));
    tagOnly[5] ^= 4;
    assert.equal(aeadOpen(KEY, NONCE, AD, tagOnly), null);
  },
});

Deno.test({
  name: "AES-SIV: a key of the wrong length throws a RangeError",
  ignore,
  fn() {
    assert.throws(() => aeadSeal(new Uint8Array(16), NONCE, AD, AD), RangeError);
  },
});

Deno.test({
  name: "AES-CMAC: RFC 4493 examples 1-4",
  fn() {
    const key = hex("2b7e1516 28aed2a6 abf71588 09cf4f3c");
    const m = hex(
      "6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51 " +
        "30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710",
    );
    assert.equal(toHex(aes128Cmac(key)(m.subarray(0, 0))), "bb1d6929e95937287fa37d129b756746");
    assert.equal(toHex(aes128Cmac(key)(m.subarray(0, 16))), "070a16b46b4d4144f79bdd9dd04a287c");
    assert.equal(toHex(aes128Cmac(key)(m.subarray(0, 40))), "dfa66747de9ae63030ca32611497c827");
    assert.equal(toHex(aes128Cmac(key)(m)), "51f0bebf7e3b9d92fc49741779363cfe");
  },
});
