import assert from "node:assert/strict";
import {
  ADJ_NANO,
  ADJ_SETOFFSET,
  ADJ_TICK,
  decodeTimex,
  emptyTimex,
  encodeTimex,
  STA_INS,
  TIMEX_SIZE,
} from "./timex.ts";

Deno.test("encodeTimex puts fields at the kernel's x86_64 offsets", () => {
  const bytes = encodeTimex({
    modes: ADJ_SETOFFSET | ADJ_NANO,
    offset: -5,
    freq: 123 * 65536,
    status: STA_INS,
    timeSec: -3600,
    timeUsec: 999_999_999,
    tick: 10_100,
    tai: 37,
  });
  assert.equal(bytes.byteLength, TIMEX_SIZE);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getUint32(0, true), 0x2100);
  assert.equal(v.getBigInt64(8, true), -5n);
  assert.equal(v.getBigInt64(16, true), BigInt(123 * 65536));
  assert.equal(v.getInt32(40, true), STA_INS);
  assert.equal(v.getBigInt64(72, true), -3600n);
  assert.equal(v.getBigInt64(80, true), 999_999_999n);
  assert.equal(v.getBigInt64(88, true), 10_100n);
  assert.equal(v.getInt32(160, true), 37);
});

Deno.test("decodeTimex(encodeTimex(x)) round-trips every field", () => {
  const tx = emptyTimex();
  let i = 1;
  for (const key of Object.keys(tx) as (keyof typeof tx)[]) tx[key] = i++ * 7 - 30;
  tx.modes = ADJ_TICK;
  assert.deepEqual(decodeTimex(encodeTimex(tx)), tx);
});

Deno.test("decodeTimex rejects a short buffer", () => {
  assert.throws(() => decodeTimex(new Uint8Array(100)), RangeError);
});
