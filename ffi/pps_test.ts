import assert from "node:assert/strict";
import { FakePpsKernel } from "../tests/helpers/fake_pps.ts";
import {
  decodePpsFdata,
  decodePpsParams,
  encodePpsFdata,
  encodePpsParams,
  PPS_CAPTUREASSERT,
  PPS_FDATA_SIZE,
  PPS_FETCH,
  PPS_GETCAP,
  PPS_GETPARAMS,
  PPS_SETPARAMS,
  PPS_TSFMT_TSPEC,
  PpsDevice,
  type PpsInfo,
} from "./pps.ts";

/** _IOC(dir, 'p', nr, size) as linux/ioctl.h computes it. */
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (0x70 << 8) | nr) >>> 0;
}

Deno.test("PPS ioctl numbers are linux/pps.h's (pointer-sized arguments)", () => {
  assert.equal(PPS_GETPARAMS, ioc(2, 0xa1, 8));
  assert.equal(PPS_SETPARAMS, ioc(1, 0xa2, 8));
  assert.equal(PPS_GETCAP, ioc(2, 0xa3, 8));
  assert.equal(PPS_FETCH, ioc(3, 0xa4, 8));
});

Deno.test("PPS structs: fdata and kparams round trip at the kernel's offsets", () => {
  const info: PpsInfo = {
    assertSequence: 7,
    clearSequence: 6,
    assertTime: 1_750_000_000_123_456_789n,
    clearTime: 1_750_000_000_223_456_789n,
    mode: 0x1011,
  };
  const bytes = encodePpsFdata(info);
  assert.equal(bytes.byteLength, PPS_FDATA_SIZE);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getBigInt64(8, true), 1_750_000_000n);
  assert.equal(v.getInt32(16, true), 123_456_789);
  assert.equal(v.getInt32(40, true), 0x1011);
  assert.deepEqual(decodePpsFdata(bytes), info);
  assert.deepEqual(decodePpsParams(encodePpsParams({ apiVersion: 1, mode: 3 })), {
    apiVersion: 1,
    mode: 3,
  });
  assert.throws(() => decodePpsFdata(new Uint8Array(10)), RangeError);
});

Deno.test("PPS device: capture of the wanted edge set through GETCAP/GETPARAMS/SETPARAMS", () => {
  const k = new FakePpsKernel();
  const d = PpsDevice.open("/dev/pps0", false, k);
  assert.deepEqual(k.calls, ["open /dev/pps0", "PPS_GETCAP", "PPS_GETPARAMS", "PPS_SETPARAMS"]);
  assert.equal(k.mode, PPS_CAPTUREASSERT | PPS_TSFMT_TSPEC);
  k.info = { ...k.info, assertSequence: 1, assertTime: 5_000_000_100n };
  assert.equal(d.fetch().assertTime, 5_000_000_100n);
  d.close();
  d.close();
  assert.equal(k.openFds, 0);
  // A device that cannot capture the clear edge is refused, and its descriptor closed.
  const k2 = new FakePpsKernel();
  k2.caps = PPS_CAPTUREASSERT;
  assert.throws(() => PpsDevice.open("/dev/pps1", true, k2), /cannot capture the clear edge/);
  assert.equal(k2.openFds, 0);
});

Deno.test("PPS fuzz: any 64 bytes decode without throwing", () => {
  let seed = 99;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 2000; i++) {
    const b = Uint8Array.from({ length: PPS_FDATA_SIZE }, () => Math.floor(rnd() * 256));
    const info = decodePpsFdata(b);
    assert.equal(typeof info.assertTime, "bigint");
  }
});
