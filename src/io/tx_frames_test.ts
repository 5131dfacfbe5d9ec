import assert from "node:assert/strict";
import { seededRandom } from "../../tests/helpers/random.ts";
import { udpPayloadOfFrame } from "./tx_frames.ts";

const PAYLOAD = Uint8Array.from({ length: 48 }, (_, i) => i + 1);

function ethernet(type: number, vlan = false): number[] {
  return [
    ...new Array(12).fill(0),
    ...(vlan ? [0x81, 0x00, 0x00, 0x05] : []),
    type >> 8,
    type & 255,
  ];
}

function ipv4(payload: Uint8Array, options = 0): number[] {
  const ihl = 5 + options;
  return [
    0x40 | ihl,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    64,
    17,
    0,
    0,
    127,
    0,
    0,
    1,
    127,
    0,
    0,
    1,
    ...new Array(options * 4).fill(1),
    0,
    123,
    0x9c,
    0x40,
    0,
    56,
    0,
    0,
    ...payload,
  ];
}

function ipv6(payload: Uint8Array, ext: number[][] = []): number[] {
  const first = ext.length === 0 ? 17 : ext[0][0];
  const header = [0x60, 0, 0, 0, 0, 56, first, 64, ...new Array(32).fill(0)];
  const chain: number[] = [];
  ext.forEach((e, i) => chain.push(ext[i + 1]?.[0] ?? 17, ...e.slice(1)));
  return [...header, ...chain, 0, 123, 0x9c, 0x40, 0, 56, 0, 0, ...payload];
}

Deno.test("tx frames: the UDP payload of IPv4, VLAN-tagged and IPv6 frames", () => {
  const cases = [
    [...ethernet(0x0800), ...ipv4(PAYLOAD)],
    [...ethernet(0x0800, true), ...ipv4(PAYLOAD, 2)],
    [...ethernet(0x86dd), ...ipv6(PAYLOAD)],
    // A destination-options header (type 60, 8 octets: next, length 0, 6 of padding).
    [...ethernet(0x86dd), ...ipv6(PAYLOAD, [[60, 0, 1, 0, 0, 0, 0, 0]])],
  ];
  for (const c of cases) {
    assert.deepEqual(udpPayloadOfFrame(Uint8Array.from(c)), PAYLOAD);
  }
});

Deno.test("tx frames: not UDP, not IP, or cut short gives null", () => {
  const tcp = [...ethernet(0x0800), ...ipv4(PAYLOAD)];
  tcp[14 + 9] = 6;
  assert.equal(udpPayloadOfFrame(Uint8Array.from(tcp)), null);
  assert.equal(udpPayloadOfFrame(Uint8Array.from([...ethernet(0x0806), 1, 2, 3])), null);
  const full = Uint8Array.from([...ethernet(0x86dd), ...ipv6(PAYLOAD)]);
  for (let n = 0; n < 14 + 40 + 8; n++) assert.equal(udpPayloadOfFrame(full.subarray(0, n)), null);
  assert.equal(udpPayloadOfFrame(new Uint8Array(0)), null);
});

Deno.test("tx frames fuzz: random and mutated frames never throw, payload inside the frame", () => {
  const rnd = seededRandom(9769);
  const base = Uint8Array.from([...ethernet(0x86dd), ...ipv6(PAYLOAD, [[0, 0, 1, 0, 0, 0, 0, 0]])]);
  for (let i = 0; i < 20_000; i++) {
    const f = i % 2 === 0
      ? Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256))
      : base.map((b) => (rnd() < 0.05 ? Math.floor(rnd() * 256) : b));
    if (i % 4 === 1) {
      f[12] = 0x86;
      f[13] = 0xdd;
      f[14] = 0x60;
    }
    const p = udpPayloadOfFrame(f);
    if (p !== null) {
      assert.equal(p.buffer, f.buffer);
      assert.ok(p.byteOffset >= 14 + 20 + 8 && p.byteOffset <= f.length);
    }
  }
});
