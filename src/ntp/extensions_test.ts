import assert from "node:assert/strict";
import { encodeTrailer, parseTrailer, trailerLength } from "./extensions.ts";

function trailer(...parts: number[][]): Uint8Array {
  const body = parts.flat();
  const out = new Uint8Array(48 + body.length);
  out.set(body, 48);
  return out;
}

function field(type: number, length: number): number[] {
  const f = new Array<number>(length).fill(0xaa);
  f[0] = type >> 8;
  f[1] = type & 0xff;
  f[2] = length >> 8;
  f[3] = length & 0xff;
  return f;
}

Deno.test("24 octets or fewer after the header are a MAC", () => {
  const mac20 = trailer([0, 0, 0, 7], new Array<number>(16).fill(1));
  const r = parseTrailer(mac20, 48, 4);
  assert.ok(r.ok);
  assert.equal(r.extensions.length, 0);
  assert.equal(r.mac?.keyId, 7);
  assert.equal(r.mac?.digest.length, 16);
  const mac24 = parseTrailer(trailer([0, 0, 1, 0], new Array<number>(20).fill(2)), 48, 4);
  assert.ok(mac24.ok);
  assert.equal(mac24.mac?.keyId, 256);
  assert.equal(mac24.mac?.digest.length, 20);
  // A crypto-NAK: key ID only.
  const nak = parseTrailer(trailer([0, 0, 0, 0]), 48, 4);
  assert.ok(nak.ok && nak.mac?.digest.length === 0);
});

Deno.test("longer trailers parse as extension fields, then a MAC", () => {
  const r = parseTrailer(trailer(field(0x0104, 16), field(0x0204, 28)), 48, 4);
  assert.ok(r.ok);
  assert.deepEqual(r.extensions.map((e) => [e.type, e.value.length]), [[0x0104, 12], [
    0x0204,
    24,
  ]]);
  assert.equal(r.mac, null);
  const withMac = parseTrailer(
    trailer(field(0x0104, 16), [0, 0, 0, 9], new Array(16).fill(0)),
    48,
    4,
  );
  assert.ok(withMac.ok);
  assert.equal(withMac.extensions.length, 1);
  assert.equal(withMac.mac?.keyId, 9);
});

Deno.test("bad extension lengths are typed errors", () => {
  const tooShort = parseTrailer(trailer(field(1, 12), new Array(20).fill(0)), 48, 4);
  assert.ok(!tooShort.ok && tooShort.kind === "bad-extension-length");
  const overrun = trailer(field(1, 28));
  overrun[48 + 3] = 64;
  const r = parseTrailer(overrun, 48, 4);
  assert.ok(!r.ok && r.kind === "bad-extension-length");
  const unaligned = trailer(field(1, 28));
  unaligned[48 + 3] = 30;
  const u = parseTrailer(unaligned, 48, 4);
  assert.ok(!u.ok && u.kind === "bad-extension-length");
});

Deno.test("NTPv3 carries only a MAC, up to 68 octets", () => {
  const sha256 = parseTrailer(trailer([0, 0, 0, 1], new Array(32).fill(3)), 48, 3);
  assert.ok(sha256.ok && sha256.mac?.digest.length === 32 && sha256.extensions.length === 0);
  const tooLong = parseTrailer(trailer(new Array(72).fill(0)), 48, 3);
  assert.ok(!tooLong.ok && tooLong.kind === "extensions-need-v4");
});

Deno.test("encoding pads values to 4, to 16, and the last field to 28", () => {
  const fields = [{ type: 1, value: Uint8Array.of(1, 2, 3) }, {
    type: 2,
    value: Uint8Array.of(4),
  }];
  assert.equal(trailerLength(fields, null), 16 + 28);
  const out = new Uint8Array(48 + 44);
  assert.equal(encodeTrailer(out, 48, fields, null), 92);
  assert.deepEqual([...out.subarray(48, 56)], [0, 1, 0, 16, 1, 2, 3, 0]);
  assert.deepEqual([...out.subarray(64, 69)], [0, 2, 0, 28, 4]);
  const back = parseTrailer(out, 48, 4);
  assert.ok(back.ok && back.extensions.length === 2);
  // With a MAC, the last field needs only 16.
  assert.equal(trailerLength(fields, { keyId: 1, digest: new Uint8Array(16) }), 16 + 16 + 20);
});
