import assert from "node:assert/strict";
import { FakePhcKernel } from "../tests/helpers/fake_phc.ts";
import {
  bestPhcSample,
  decodeSysOffset,
  decodeSysOffsetExtended,
  decodeSysOffsetPrecise,
  encodePhcAnswer,
  PhcDevice,
  PTP_SYS_OFFSET,
  PTP_SYS_OFFSET_EXTENDED,
  PTP_SYS_OFFSET_EXTENDED_SIZE,
  PTP_SYS_OFFSET_PRECISE,
  PTP_SYS_OFFSET_SIZE,
} from "./phc.ts";

Deno.test("PHC ioctl numbers and struct sizes are linux/ptp_clock.h's", () => {
  assert.equal(PTP_SYS_OFFSET_SIZE, 832);
  assert.equal(PTP_SYS_OFFSET_EXTENDED_SIZE, 1216);
  assert.equal(PTP_SYS_OFFSET, 0x43403d05);
  assert.equal(PTP_SYS_OFFSET_PRECISE, 0xc0403d08);
  assert.equal(PTP_SYS_OFFSET_EXTENDED, 0xc4c03d09);
});

Deno.test("PHC answers decode at the kernel's offsets, negative times included", () => {
  const rs = [
    { sysBefore: 10_000_000_001n, phc: 47_000_000_002n, sysAfter: 10_000_000_501n },
    { sysBefore: 10_000_000_501n, phc: 47_000_000_600n, sysAfter: 10_000_000_701n },
  ];
  assert.deepEqual(decodeSysOffsetExtended(encodePhcAnswer("extended", rs)), rs);
  // basic: the bracket of reading i ends where reading i + 1 begins.
  assert.deepEqual(decodeSysOffset(encodePhcAnswer("basic", rs)), rs);
  const neg = { sysBefore: -1_500_000_000n, phc: -2n, sysAfter: -1_500_000_000n };
  assert.deepEqual(decodeSysOffsetPrecise(encodePhcAnswer("precise", [neg])), neg);
  const b = encodePhcAnswer("extended", rs);
  const v = new DataView(b.buffer);
  assert.equal(v.getUint32(0, true), 2);
  assert.equal(v.getBigInt64(16 + 16, true), 47n); // ts[0][1].sec
  assert.equal(v.getUint32(16 + 16 + 8, true), 2); // ts[0][1].nsec
});

Deno.test("PHC: the shortest bracket wins; its middle is the sample time", () => {
  const s = bestPhcSample([
    { sysBefore: 0n, phc: 5_000n, sysAfter: 1_000n },
    { sysBefore: 2_000n, phc: 6_300n, sysAfter: 2_200n },
    { sysBefore: 3_000n, phc: 0n, sysAfter: 2_000n }, // insane: skipped
  ])!;
  assert.deepEqual(s, { sys: 2_100n, offset: 4.2e-6, delay: 2e-7 });
  assert.equal(bestPhcSample([]), null);
});

Deno.test("PHC device: precise, else extended, else basic; the working way is kept", () => {
  const k = new FakePhcKernel();
  const d = PhcDevice.open("/dev/ptp0", false, k);
  assert.equal(d.read(10).length, 1);
  assert.equal(d.mode, "precise");
  k.supports = ["basic"];
  k.calls = [];
  const r = d.read(10);
  assert.equal(r.length, 10);
  assert.equal(d.mode, "basic");
  assert.deepEqual(k.calls, [
    "PTP_SYS_OFFSET_PRECISE",
    "PTP_SYS_OFFSET_EXTENDED",
    "PTP_SYS_OFFSET",
  ]);
  k.calls = [];
  d.read(10);
  assert.deepEqual(k.calls, ["PTP_SYS_OFFSET"]);
  // nocrossts starts at extended.
  const k2 = new FakePhcKernel();
  const d2 = PhcDevice.open("/dev/ptp1", true, k2);
  d2.read(3);
  assert.equal(d2.mode, "extended");
  assert.ok(!k2.calls.includes("PTP_SYS_OFFSET_PRECISE"));
  // A vanished device is an error, not a fallback.
  k2.present = false;
  assert.throws(() => d2.read(3), /ENODEV/);
  d.close();
  d2.close();
  assert.equal(k.openFds + k2.openFds, 0);
});

Deno.test("PHC fuzz: random answers decode without throwing; samples are finite", () => {
  let seed = 5;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 500; i++) {
    const b = Uint8Array.from({ length: PTP_SYS_OFFSET_EXTENDED_SIZE }, () => rnd() * 256);
    for (const rs of [decodeSysOffset(b), decodeSysOffsetExtended(b)]) {
      assert.ok(rs.length <= 25);
      const s = bestPhcSample(rs);
      if (s !== null) assert.ok(Number.isFinite(s.offset));
    }
  }
});
