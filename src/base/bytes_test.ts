import assert from "node:assert/strict";
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

Deno.test("bytes: big-endian 16- and 32-bit values round-trip at an offset", () => {
  const b = new Uint8Array(7);
  writeU16(b, 1, 0xabcd);
  writeU32(b, 3, 0xdeadbeef);
  assert.deepStrictEqual([...b], [0, 0xab, 0xcd, 0xde, 0xad, 0xbe, 0xef]);
  assert.deepStrictEqual(readU16(b, 1), 0xabcd);
  assert.deepStrictEqual(readU32(b, 3), 0xdeadbeef);
});

Deno.test("bytes: writes keep the low bits of out-of-range values", () => {
  const b = new Uint8Array(6);
  writeU16(b, 0, 0x12345);
  writeU32(b, 2, -1);
  assert.deepStrictEqual([...b], [0x23, 0x45, 0xff, 0xff, 0xff, 0xff]);
  assert.deepStrictEqual(readU32(b, 2), 0xffffffff);
});
