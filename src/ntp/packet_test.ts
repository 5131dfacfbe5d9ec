import assert from "node:assert/strict";
import {
  decodePacket,
  emptyPacket,
  encodePacket,
  kissAction,
  kissCode,
  refIdFromAddress,
  refIdFromAscii,
  refIdToString,
} from "./packet.ts";
import { randomBytes, randomPacket, seededRandom } from "../../tests/helpers/random.ts";

Deno.test("decode(encode(p)) == p over random packets", () => {
  const rnd = seededRandom(11);
  for (let i = 0; i < 5_000; i++) {
    const p = randomPacket(rnd);
    const bytes = encodePacket(p);
    const result = decodePacket(bytes);
    assert.ok(result.ok, `packet ${i}: ${result.ok ? "" : result.error.message}`);
    assert.deepEqual(result.packet, p);
    assert.deepEqual(encodePacket(result.packet), bytes);
  }
});

Deno.test("header fields sit where RFC 5905 puts them", () => {
  const p = emptyPacket(4);
  p.leap = 1;
  p.stratum = 2;
  p.poll = 6;
  p.precision = -20;
  p.rootDelay = 1.5;
  p.rootDispersion = 0.25;
  p.refId = 0x7f000001;
  p.transmitTime = 0x0102030405060708n;
  const b = encodePacket(p);
  assert.equal(b.length, 48);
  assert.equal(b[0], 0b01_100_100);
  assert.equal(b[1], 2);
  assert.equal(b[2], 6);
  assert.equal(b[3], 0xec);
  assert.deepEqual([...b.subarray(4, 8)], [0, 1, 0x80, 0]);
  assert.deepEqual([...b.subarray(8, 12)], [0, 0, 0x40, 0]);
  assert.deepEqual([...b.subarray(12, 16)], [0x7f, 0, 0, 1]);
  assert.deepEqual([...b.subarray(40, 48)], [1, 2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("typed errors for short, odd, control-mode and bad-version datagrams", () => {
  const kinds = (b: Uint8Array) => {
    const r = decodePacket(b);
    return r.ok ? "ok" : r.error.kind;
  };
  assert.equal(kinds(new Uint8Array(0)), "too-short");
  assert.equal(kinds(Uint8Array.of(0x23)), "too-short");
  const odd = new Uint8Array(50);
  odd[0] = 0x23;
  assert.equal(kinds(odd), "bad-length");
  const control = new Uint8Array(12);
  control[0] = 0x16; // v2, mode 6
  assert.equal(kinds(control), "control-mode");
  const v0 = new Uint8Array(48);
  v0[0] = 0x03;
  assert.equal(kinds(v0), "bad-version");
  const m0 = new Uint8Array(48);
  m0[0] = 0x20;
  assert.equal(kinds(m0), "bad-mode");
  const v3long = new Uint8Array(48 + 72);
  v3long[0] = 0x1b; // v3 client
  assert.equal(kinds(v3long), "extensions-need-v4");
});

Deno.test("refid: ASCII for stratum 0/1, dotted IPv4, MD5 of IPv6", () => {
  assert.equal(refIdFromAscii("GPS"), 0x47505300);
  assert.equal(refIdToString(0x47505300, 1), "GPS");
  assert.equal(refIdToString(refIdFromAscii("LOCL"), 0), "LOCL");
  assert.equal(refIdFromAddress("192.0.2.1"), 0xc0000201);
  assert.equal(refIdToString(0xc0000201, 2), "192.0.2.1");
  // MD5(::1 as 16 octets) = 0xcf404dc8... ; the refid is its first 4 octets.
  assert.equal(refIdFromAddress("::1"), 0xcf404dc8);
  assert.equal(refIdFromAddress("0:0:0:0:0:0:0:1"), refIdFromAddress("::1"));
  assert.equal(refIdFromAddress("not-an-ip"), null);
  assert.equal(refIdToString(0x01020304, 1), "01020304");
});

Deno.test("kiss-o'-death codes and actions", () => {
  const kod = emptyPacket(4);
  kod.leap = 3;
  kod.refId = refIdFromAscii("RATE");
  assert.equal(kissCode(kod), "RATE");
  assert.equal(kissAction("RATE"), "reduce-rate");
  assert.equal(kissAction("DENY"), "demobilize");
  assert.equal(kissAction("RSTR"), "demobilize");
  assert.equal(kissAction("XFOO"), "ignore");
  assert.equal(kissAction("INIT"), "discard");
  kod.stratum = 1;
  assert.equal(kissCode(kod), null);
  kod.stratum = 0;
  kod.refId = 0;
  assert.equal(kissCode(kod), null);
  kod.refId = 0x01020304;
  assert.equal(kissCode(kod), null);
});

Deno.test("decoded buffers are copies, not views of the input", () => {
  const p = emptyPacket(4);
  p.extensions.push({ type: 0x0104, value: new Uint8Array(32).fill(9) });
  p.mac = { keyId: 5, digest: new Uint8Array(16).fill(7) };
  const bytes = encodePacket(p);
  const r = decodePacket(bytes);
  assert.ok(r.ok);
  bytes.fill(0);
  assert.equal(r.packet.extensions[0].value[0], 9);
  assert.equal(r.packet.mac?.digest[0], 7);
  assert.equal(r.packet.mac?.keyId, 5);
});

Deno.test("random bytes after a valid header never throw", () => {
  const rnd = seededRandom(5);
  const buf = new Uint8Array(200);
  for (let i = 0; i < 2_000; i++) {
    const len = 48 + 4 * Math.floor(rnd() * 38);
    const b = randomBytes(rnd, buf.subarray(0, len));
    b[0] = 0x24;
    const r = decodePacket(b);
    assert.ok(r.ok || typeof r.error.message === "string");
  }
});
