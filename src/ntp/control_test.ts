import assert from "node:assert/strict";
import {
  CONTROL_MAX_DATA,
  decodeControlFragment,
  decodeControlRequest,
  encodeControlFragment,
  encodeControlRequest,
  MAX_CONTROL_REQUEST,
} from "./control.ts";
import { randomBytes, seededRandom } from "../../tests/helpers/random.ts";

const enc = new TextEncoder();

Deno.test("control: an ntpq request decodes (version, opcode, sequence, assoc, data)", () => {
  const bytes = encodeControlRequest({
    opcode: 2,
    sequence: 513,
    associationId: 7,
    data: enc.encode("srcadr,offset"),
  });
  assert.equal(bytes.length, 12 + 16, "padded to 4 octets");
  const r = decodeControlRequest(bytes);
  assert.ok(r.ok);
  assert.equal(r.request.version, 2);
  assert.equal(r.request.opcode, 2);
  assert.equal(r.request.sequence, 513);
  assert.equal(r.request.associationId, 7);
  assert.equal(new TextDecoder().decode(r.request.data), "srcadr,offset");
  assert.equal(r.request.hasMac, false);
});

Deno.test("control: responses, fragments, short and unknown versions are ignored", () => {
  const good = encodeControlRequest({ opcode: 1, sequence: 1 });
  const response = good.slice();
  response[1] |= 0x80;
  const more = good.slice();
  more[1] |= 0x20;
  const offset = good.slice();
  offset[9] = 4;
  const v0 = good.slice();
  v0[0] = 6;
  const v5 = good.slice();
  v5[0] = (5 << 3) | 6;
  const mode3 = good.slice();
  mode3[0] = (4 << 3) | 3;
  const cases: [Uint8Array, string][] = [
    [good.subarray(0, 11), "too-short"],
    [response, "not-a-request"],
    [more, "not-a-request"],
    [offset, "not-a-request"],
    [v0, "bad-version"],
    [v5, "bad-version"],
    [mode3, "not-control"],
    [new Uint8Array(MAX_CONTROL_REQUEST + 4).fill(0x16, 0, 1), "too-long"],
  ];
  for (const [bytes, kind] of cases) {
    const r = decodeControlRequest(bytes);
    assert.ok(!r.ok, kind);
    assert.equal(r.error.kind, kind);
    assert.equal(r.error.action, "ignore");
  }
});

Deno.test("control: a count past the data, above 468 or an unaligned length is bad-format", () => {
  const base = encodeControlRequest({ opcode: 2, sequence: 9, data: enc.encode("abcd") });
  const over = base.slice();
  over[11] = 9; // count 9 > 4 octets present
  const huge = new Uint8Array(12 + 472);
  huge.set(base.subarray(0, 10));
  new DataView(huge.buffer).setUint16(10, CONTROL_MAX_DATA + 1);
  const unaligned = new Uint8Array(base.length + 1);
  unaligned.set(base);
  for (const bytes of [over, huge, unaligned]) {
    const r = decodeControlRequest(bytes);
    assert.ok(!r.ok);
    assert.equal(r.error.kind, "bad-format");
    assert.equal(r.error.action, "error");
    if (r.error.kind === "bad-format") assert.equal(r.error.sequence, 9);
  }
});

Deno.test("control: a trailer of 20-68 octets after the padded data is a MAC", () => {
  const base = encodeControlRequest({ opcode: 2, sequence: 1, data: enc.encode("ab") });
  const withMac = new Uint8Array(base.length + 20);
  withMac.set(base);
  const r = decodeControlRequest(withMac);
  assert.ok(r.ok);
  assert.equal(r.request.hasMac, true);
  assert.equal(r.request.data.length, 2);
});

Deno.test("control: fragments encode and decode (R, M, E bits, offset, padding)", () => {
  const data = enc.encode("leap=0, stratum=2");
  const bytes = encodeControlFragment({
    leap: 0,
    version: 2,
    opcode: 2,
    sequence: 44,
    status: 0x0618,
    associationId: 0,
    offset: 468,
    more: true,
    error: false,
  }, data);
  assert.equal(bytes.length % 4, 0);
  assert.equal(bytes[1], 0x80 | 0x20 | 2);
  const f = decodeControlFragment(bytes);
  assert.ok(f !== null);
  assert.equal(f.sequence, 44);
  assert.equal(f.status, 0x0618);
  assert.equal(f.offset, 468);
  assert.equal(f.more, true);
  assert.equal(f.error, false);
  assert.equal(new TextDecoder().decode(f.data), "leap=0, stratum=2");
  assert.throws(
    () =>
      encodeControlFragment({
        leap: 0,
        version: 2,
        opcode: 2,
        sequence: 1,
        status: 0,
        associationId: 0,
        offset: 0,
        more: false,
        error: false,
      }, new Uint8Array(CONTROL_MAX_DATA + 1)),
    RangeError,
  );
});

Deno.test("fuzz: 100 000 random and mutated mode 6 requests decode without throwing", () => {
  const rnd = seededRandom(0x6d6f6436);
  const scratch = new Uint8Array(700);
  let ok = 0;
  for (let i = 0; i < 100_000; i++) {
    const len = rnd() < 0.8 ? Math.floor(rnd() * 64) : Math.floor(rnd() * 700);
    const bytes = randomBytes(rnd, scratch.subarray(0, len));
    if (len > 0 && rnd() < 0.8) bytes[0] = (Math.floor(rnd() * 8) << 3) | 6;
    if (len > 1 && rnd() < 0.5) bytes[1] &= 0x1f;
    if (len > 9 && rnd() < 0.5) bytes[8] = bytes[9] = 0;
    if (len > 11 && rnd() < 0.5) {
      new DataView(bytes.buffer, bytes.byteOffset).setUint16(10, Math.floor(rnd() * (len - 11)));
    }
    const r = decodeControlRequest(bytes);
    if (r.ok) {
      ok++;
      assert.ok(r.request.data.length <= CONTROL_MAX_DATA);
      assert.ok(r.request.data.length <= bytes.length - 12);
      assert.ok(r.request.version >= 1 && r.request.version <= 4);
    } else {
      assert.ok(["ignore", "error"].includes(r.error.action));
    }
    decodeControlFragment(bytes); // never throws either
  }
  assert.ok(ok > 1000, `only ${ok} inputs decoded`);
});
