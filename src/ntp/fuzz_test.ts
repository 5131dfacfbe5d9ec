import assert from "node:assert/strict";
import { decodePacket, encodePacket, type NtpPacket } from "./packet.ts";
import { randomBytes, randomPacket, seededRandom } from "../../tests/helpers/random.ts";

/** Octets held by the decoded value's byte buffers (counting whole backing buffers). */
function bufferedOctets(p: NtpPacket): number {
  let total = 0;
  for (const e of p.extensions) total += e.value.buffer.byteLength;
  if (p.mac !== null) total += p.mac.digest.buffer.byteLength;
  return total;
}

function checkOne(bytes: Uint8Array): void {
  const r = decodePacket(bytes);
  if (r.ok) {
    assert.ok(bufferedOctets(r.packet) <= bytes.length, "decoded buffers exceed the input");
    assert.ok(r.packet.extensions.length <= bytes.length / 16);
    // A decoded packet re-encodes to exactly the input.
    const again = encodePacket(r.packet);
    assert.equal(again.length, bytes.length);
    for (let i = 0; i < again.length; i++) {
      if (again[i] !== bytes[i]) assert.fail(`re-encoding differs at octet ${i}`);
    }
  } else {
    assert.equal(typeof r.error.kind, "string");
    assert.ok(r.error.message.length > 0 && !r.error.message.includes("\n"));
  }
}

Deno.test("fuzz: 120 000 random and mutated inputs never throw nor over-allocate", () => {
  const rnd = seededRandom(0x7e3905);
  const scratch = new Uint8Array(1024);
  let decodedOk = 0;
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 64; i++) seeds.push(encodePacket(randomPacket(rnd)));
  for (let i = 0; i < 60_000; i++) {
    // Pure random: lengths biased to the interesting range around 48..160.
    const len = rnd() < 0.8 ? Math.floor(rnd() * 160) : Math.floor(rnd() * 1024);
    const bytes = randomBytes(rnd, scratch.subarray(0, len)).slice();
    if (rnd() < 0.7 && len > 0) bytes[0] = (bytes[0] & 0xc0) | 0x20 | (1 + Math.floor(rnd() * 5));
    checkOne(bytes);
  }
  for (let i = 0; i < 60_000; i++) {
    // Mutations of valid packets: bit flips, truncation, extension-length tweaks.
    const seed = seeds[Math.floor(rnd() * seeds.length)];
    let bytes = seed.slice();
    const action = Math.floor(rnd() * 4);
    if (action === 0) {
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) {
        bytes[Math.floor(rnd() * bytes.length)] ^= 1 << Math.floor(rnd() * 8);
      }
    } else if (action === 1) {
      bytes = bytes.slice(0, Math.floor(rnd() * (bytes.length + 1)));
    } else if (action === 2 && bytes.length > 52) {
      const at = 48 + 4 * Math.floor(rnd() * ((bytes.length - 48) / 4));
      bytes[at + 2] = Math.floor(rnd() * 256);
      bytes[at + 3] = Math.floor(rnd() * 256);
    } else {
      const extra = randomBytes(rnd, new Uint8Array(4 * Math.floor(rnd() * 12)));
      const grown = new Uint8Array(bytes.length + extra.length);
      grown.set(bytes);
      grown.set(extra, bytes.length);
      bytes = grown;
    }
    checkOne(bytes);
    if (decodePacket(bytes).ok) decodedOk++;
  }
  // The mutations must exercise the success path too, not only rejections.
  assert.ok(decodedOk > 5_000, `only ${decodedOk} mutated inputs decoded`);
});
