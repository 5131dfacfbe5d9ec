import assert from "node:assert/strict";
import {
  encodeXdpState,
  XDP_STATE_SIZE,
  type XdpResponderState,
  XdpStateField as F,
} from "./responder_state.ts";
import type { ReferenceState } from "../../core/types.ts";

const REFERENCE: ReferenceState = {
  synchronised: true,
  leap: 1,
  stratum: 3,
  refId: 0xc0000201,
  refTime: 1_796_000_000_500_000_000n,
  rootDelay: 0.25,
  rootDispersion: 0.5,
  dispersionRate: 1e-5,
  precisionLog2: -23,
};

/** A plain unsynchronised state, with `over` on top. */
function plain(over: Partial<XdpResponderState> = {}): XdpResponderState {
  return {
    enabled: true,
    port: 123,
    bindAddress: null,
    tos: 0,
    clientLog: false,
    rateLimit: null,
    line: { monotonicNs: 1n, served: 1_796_000_001_000_000_000n, rateError: 0 },
    reference: { ...REFERENCE, synchronised: false },
    ...over,
  };
}

Deno.test("xdp state: every field where the program reads it", () => {
  const bytes = encodeXdpState({
    enabled: true,
    port: 123,
    bindAddress: "192.0.2.1",
    tos: 0xb8,
    clientLog: true,
    rateLimit: { interval: -1, burst: 8, leak: 2, kod: 3 },
    line: { monotonicNs: 5_000_000_000n, served: 1_796_000_001_500_000_000n, rateError: -1e-6 },
    reference: REFERENCE,
  });
  assert.equal(bytes.length, XDP_STATE_SIZE);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getUint32(F.enabled, true), 1);
  assert.deepEqual([...bytes.subarray(F.port, F.port + 2)], [0, 123]);
  assert.equal(bytes[F.tos], 0xb8);
  assert.equal(bytes[F.clientLog], 1);
  assert.deepEqual([...bytes.subarray(F.bindAddress, F.bindAddress + 4)], [192, 0, 2, 1]);
  assert.equal(v.getBigUint64(F.mono0, true), 5_000_000_000n);
  assert.equal(
    v.getBigUint64(F.served0, true),
    (1_796_000_001n + 2_208_988_800n) * 10n ** 9n + 500_000_000n,
  );
  assert.equal(v.getBigInt64(F.rateError, true), -4295n); // -1e-6 * 2^32, rounded
  // Root dispersion at the line's origin: 0.5 + 1e-5 * 1 s, in 2^-48 s; growth per µs.
  const d0 = v.getBigUint64(F.dispersion0, true);
  assert.equal(d0 >> 32n, BigInt(Math.floor(0.50001 * 65536)));
  assert.ok(Math.abs(Number(d0) / 2 ** 48 - 0.50001) < 1e-12, `${d0}`);
  assert.equal(v.getBigUint64(F.dispersionRate, true), BigInt(Math.round(1e-5 * 2 ** 48 / 1e6)));
  assert.deepEqual([...bytes.subarray(F.header, F.header + 4)], [1 << 6, 3, 0, 0xe9]);
  assert.equal(new DataView(bytes.buffer).getUint32(F.header + 4), 0.25 * 65536);
  assert.equal(new DataView(bytes.buffer).getUint32(F.header + 12), 0xc0000201);
  assert.equal(new DataView(bytes.buffer).getUint32(F.refTime), 1_796_000_000 + 2_208_988_800);
  assert.equal(new DataView(bytes.buffer).getUint32(F.refTime + 4), 2 ** 31);
  assert.deepEqual([...bytes.subarray(F.rateLimit, F.rateLimit + 3)], [1, 3, 7]);
  assert.equal(v.getBigUint64(F.costNs, true), 500_000_000n);
  assert.equal(v.getBigUint64(F.maxCreditNs, true), 4_000_000_000n);
});

Deno.test("xdp state: unsynchronised announces leap 3, stratum 16 and a dispersion that does not grow", () => {
  const bytes = encodeXdpState(plain({
    enabled: false,
    port: 11123,
    reference: { ...REFERENCE, synchronised: false, refTime: 0n },
  }));
  const v = new DataView(bytes.buffer);
  assert.equal(v.getUint32(F.enabled, true), 0);
  assert.equal(v.getUint32(F.bindAddress, true), 0);
  assert.equal(bytes[F.header], 3 << 6);
  assert.equal(bytes[F.header + 1], 16);
  assert.equal(v.getBigUint64(F.dispersion0, true), BigInt(0.5 * 2 ** 48));
  assert.equal(v.getBigUint64(F.dispersionRate, true), 0n);
  assert.equal(v.getBigUint64(F.refTime, true), 0n);
  assert.equal(bytes[F.rateLimit], 0);
  assert.equal(v.getBigUint64(F.costNs, true), 0n);
  assert.throws(() => encodeXdpState(plain({ bindAddress: "::1" })), /IPv4/);
});

Deno.test("xdp state: root dispersion saturates as the responder's (65535 s and more)", () => {
  const long = encodeXdpState(plain({
    reference: { ...REFERENCE, synchronised: false, rootDispersion: 100_000 },
  }));
  const d = new DataView(long.buffer).getBigUint64(F.dispersion0, true);
  assert.equal(d >> 32n, 0xffff_ffffn);
  const exact = encodeXdpState(plain({
    reference: { ...REFERENCE, synchronised: false, rootDispersion: 40 },
  }));
  assert.equal(new DataView(exact.buffer).getBigUint64(F.dispersion0, true), 40n * 65536n << 32n);
});
