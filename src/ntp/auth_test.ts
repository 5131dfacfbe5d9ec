import assert from "node:assert/strict";
import {
  appendMac,
  checkPacketAuth,
  computeDigest,
  locateMac,
  suggestedVersion,
  verifyDigest,
  writeMac,
} from "./auth.ts";
import { aesCmac } from "./cmac.ts";
import { KeyStore, parseKeyFile, type SymmetricKey } from "./keyfile.ts";
import { decodePacket, emptyPacket, encodePacket, NtpMode } from "./packet.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

function hex(text: string): Uint8Array {
  const t = text.replace(/\s+/g, "");
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

function key(type: SymmetricKey["type"], value: Uint8Array, id = 1): SymmetricKey {
  return { id, type, value, line: 0 };
}

const RFC4493_KEY = hex("2b7e1516 28aed2a6 abf71588 09cf4f3c");
const RFC4493_MSG = hex(
  "6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51" +
    "30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710",
);

Deno.test("auth: AES-128-CMAC matches the RFC 4493 vectors", () => {
  const k = key("AES128", RFC4493_KEY);
  const cases: [number, string][] = [
    [0, "bb1d6929e95937287fa37d129b756746"],
    [16, "070a16b46b4d4144f79bdd9dd04a287c"],
    [40, "dfa66747de9ae63030ca32611497c827"],
    [64, "51f0bebf7e3b9d92fc49741779363cfe"],
  ];
  for (const [len, mac] of cases) {
    assert.equal(toHex(aesCmac(k, RFC4493_MSG.subarray(0, len))), mac);
  }
});

Deno.test("auth: AES-256-CMAC matches the SP 800-38B vectors", () => {
  const k = key(
    "AES256",
    hex("603deb10 15ca71be 2b73aef0 857d7781 1f352c07 3b6108d7 2d9810a3 0914dff4"),
  );
  assert.equal(toHex(aesCmac(k, new Uint8Array(0))), "028962f61b7bf89efc6b551f4667d983");
  assert.equal(toHex(aesCmac(k, RFC4493_MSG.subarray(0, 16))), "28a7023f452e8f82bd4bf28d8c37c35c");
  assert.equal(toHex(aesCmac(k, RFC4493_MSG)), "e1992190549f6ed5696a2c056c315410");
});

Deno.test("auth: hash digests are H(key || data), truncated on request", () => {
  const abc = new TextEncoder().encode("bc");
  const a = new TextEncoder().encode("a");
  assert.equal(toHex(computeDigest(key("MD5", a), abc)), "900150983cd24fb0d6963f7d28e17f72");
  assert.equal(
    toHex(computeDigest(key("SHA1", a), abc)),
    "a9993e364706816aba3e25717850c26c9cd0d89d",
  );
  const sha256 = computeDigest(key("SHA256", a), abc);
  assert.equal(
    toHex(sha256),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(toHex(computeDigest(key("SHA256", a), abc, 20)), toHex(sha256.subarray(0, 20)));
  assert.equal(computeDigest(key("SHA512", a), abc).length, 64);
});

Deno.test("auth: verification needs the exact truncated length and digest", () => {
  const k = key("SHA256", new TextEncoder().encode("secret-key-1"));
  const data = new Uint8Array(48).fill(7);
  const full = computeDigest(k, data);
  assert.ok(verifyDigest(k, data, full.subarray(0, 20), 20));
  assert.ok(!verifyDigest(k, data, full, 20));
  assert.ok(!verifyDigest(k, data, full.subarray(0, 16), 20));
  assert.ok(verifyDigest(k, data, full, 64));
  const bad = full.slice(0, 20);
  bad[19] ^= 1;
  assert.ok(!verifyDigest(k, data, bad, 20));
});

Deno.test("auth: keyfile parsing like chrony, with typed errors and line numbers", () => {
  const text = [
    "# comment",
    "  ; another comment",
    "1 SHA1 HEX:19C12E347D12C16E1712D64604145A767B7628C7",
    "2 ASCII-only-password",
    "3 AES128 HEX:FAB72067F047CE06ED1BE7BE97E19B6D",
    "4 AES128 HEX:FAB7",
    "5 FOO HEX:00112233445566778899",
    "6 SHA256 HEX:123",
    "x MD5 abc",
    "7 MD5 a b",
    "1 MD5 duplicate",
    "8 MD5 ASCII:plain",
    "",
    "9 SHA512 HEX:00112233445566778899aabbccddeeff",
  ].join("\n");
  const { keys, errors } = parseKeyFile(text);
  assert.deepEqual(keys.ids(), [1, 2, 3, 8, 9]);
  assert.equal(keys.get(1)?.type, "SHA1");
  assert.equal(keys.get(1)?.value.length, 20);
  assert.equal(keys.get(2)?.type, "MD5");
  assert.equal(new TextDecoder().decode(keys.get(2)?.value), "ASCII-only-password");
  assert.equal(new TextDecoder().decode(keys.get(8)?.value), "plain");
  assert.equal(keys.get(3)?.line, 5);
  assert.deepEqual(
    errors.map((e) => [e.line, e.keyId, e.kind]),
    [
      [6, 4, "bad-key-length"],
      [7, 5, "unknown-type"],
      [8, 6, "bad-key"],
      [9, null, "bad-id"],
      [10, null, "syntax"],
      [11, 1, "duplicate"],
    ],
  );
});

Deno.test("auth: signed packets verify, tampered ones do not", () => {
  const keys = parseKeyFile(
    "1 SHA1 HEX:19C12E347D12C16E1712D64604145A767B7628C7\n" +
      "2 MD5 HEX:EEC59B2C20E7D077929B\n3 AES128 HEX:FAB72067F047CE06ED1BE7BE97E19B6D\n" +
      "4 SHA512 HEX:00112233445566778899aabbccddeeff\n",
  ).keys;
  for (const id of [1, 2, 3, 4]) {
    const k = keys.get(id)!;
    const p = emptyPacket(NtpMode.Client);
    p.version = suggestedVersion(k, 4);
    p.transmitTime = 0x0123456789abcdefn;
    const signed = appendMac(encodePacket(p), k);
    const expectLen = id === 4 ? 48 + 68 : id === 1 ? 48 + 24 : 48 + 20;
    assert.equal(signed.length, expectLen, `key ${id}`);
    const decoded = decodePacket(signed);
    assert.ok(decoded.ok);
    assert.equal(decoded.packet.mac?.keyId, id);
    const check = checkPacketAuth(signed, keys);
    assert.equal(check.kind, "ok", `key ${id}`);
    // Any flipped bit breaks it.
    for (const at of [0, 40, 47, signed.length - 1]) {
      const t = signed.slice();
      t[at] ^= 0x10;
      assert.equal(checkPacketAuth(t, keys).kind, "bad", `key ${id} flip ${at}`);
    }
    // Unknown key.
    assert.equal(checkPacketAuth(signed, new KeyStore()).kind, "bad");
    // writeMac into a buffer gives the same octets.
    const buf = new Uint8Array(48 + 68);
    buf.set(signed.subarray(0, 48));
    assert.equal(writeMac(buf, 48, k), signed.length);
    assert.deepEqual(buf.subarray(0, signed.length), signed);
  }
  // SHA512 in an NTPv4 packet is truncated to 20 octets and still verifies.
  const long = keys.get(4)!;
  const p4 = emptyPacket(NtpMode.Client);
  const v4 = appendMac(encodePacket(p4), long);
  assert.equal(v4.length, 72);
  assert.equal(checkPacketAuth(v4, keys).kind, "ok");
  // A full 64-octet digest right after an NTPv4 header (old chrony clients) is found too.
  const full = new Uint8Array(48 + 68);
  full.set(encodePacket(p4));
  new DataView(full.buffer).setUint32(48, 4);
  full.set(computeDigest(long, full.subarray(0, 48)), 52);
  assert.equal(locateMac(full, keys).kind, "mac");
  assert.equal(checkPacketAuth(full, keys).kind, "ok");
  // No MAC, crypto-NAK.
  assert.equal(checkPacketAuth(encodePacket(p4), keys).kind, "none");
  const nak = new Uint8Array(52);
  nak.set(encodePacket(p4));
  const r = checkPacketAuth(nak, keys);
  assert.ok(r.kind === "bad" && r.reason === "crypto-NAK");
});

Deno.test("auth: fuzz: random keyfiles and packets never throw", () => {
  const rnd = seededRandom(0xa5e7);
  const alphabet = "0123456789 ABCDEFHXSMD:#;\t\nabc-x%!";
  const words = ["MD5", "SHA1", "SHA256", "AES128", "AES256", "HEX:", "ASCII:", "1", "42"];
  let taken = 0;
  for (let i = 0; i < 3000; i++) {
    let text = "";
    const n = Math.floor(rnd() * 60);
    for (let j = 0; j < n; j++) {
      text += rnd() < 0.2
        ? words[Math.floor(rnd() * words.length)] + " "
        : alphabet[Math.floor(rnd() * alphabet.length)];
    }
    const r = parseKeyFile(text);
    taken += r.keys.size;
    for (const e of r.errors) assert.ok(e.line >= 1 && e.message.length > 0);
  }
  assert.ok(taken > 0);
  const keys = parseKeyFile(
    "1 SHA1 HEX:19C12E347D12C16E1712D64604145A767B7628C7\n3 AES128 HEX:FAB72067F047CE06ED1BE7BE97E19B6D\n",
  ).keys;
  const scratch = new Uint8Array(200);
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(rnd() * 200);
    const bytes = randomBytes(rnd, scratch.subarray(0, len)).slice();
    if (len > 52 && rnd() < 0.5) bytes.set([0, 0, 0, rnd() < 0.5 ? 1 : 3], 48);
    const r = checkPacketAuth(bytes, rnd() < 0.5 ? keys : null);
    assert.ok(r.kind === "none" || r.kind === "bad" || r.kind === "ok");
  }
});
