/**
 * A small seeded pseudo-random generator for the property, fuzz and statistics tests, so a
 * failing case can be reproduced from its seed.
 *
 * @module
 */
import type { NtpPacket } from "../../src/ntp/packet.ts";

export type { NtpPacket };

/** Returns a function yielding uniform numbers in [0, 1) from a 32-bit seed (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal deviate from two uniforms of the generator (Box-Muller). */
export function gaussian(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

/** Fills `bytes` from the generator and returns it. */
export function randomBytes(rnd: () => number, bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
  return bytes;
}

/** A random packet already in canonical form (so encode then decode gives it back). */
export function randomPacket(rnd: () => number): NtpPacket {
  const u32 = () => Math.floor(rnd() * 0x1_0000_0000);
  const u64 = () => (BigInt(u32()) << 32n) | BigInt(u32());
  const version = 1 + Math.floor(rnd() * 4);
  const p: NtpPacket = {
    leap: Math.floor(rnd() * 4),
    version,
    mode: 1 + Math.floor(rnd() * 5),
    stratum: Math.floor(rnd() * 256),
    poll: Math.floor(rnd() * 256) - 128,
    precision: Math.floor(rnd() * 256) - 128,
    rootDelay: u32() / 65536,
    rootDispersion: u32() / 65536,
    refId: u32(),
    refTime: u64(),
    originTime: u64(),
    receiveTime: u64(),
    transmitTime: u64(),
    extensions: [],
    mac: null,
  };
  if (version === 4) {
    const count = Math.floor(rnd() * 4);
    for (let i = 0; i < count; i++) {
      const words = 3 + Math.floor(rnd() * 10);
      p.extensions.push({
        type: Math.floor(rnd() * 0x10000),
        value: randomBytes(rnd, new Uint8Array(words * 4)),
      });
    }
  }
  const macRoll = rnd();
  if (macRoll < 0.3) {
    p.mac = { keyId: u32(), digest: randomBytes(rnd, new Uint8Array(rnd() < 0.5 ? 16 : 20)) };
  }
  // Canonical form: the last field without MAC is at least 28 octets (24 of value).
  const last = p.extensions[p.extensions.length - 1];
  if (last !== undefined && p.mac === null && last.value.length < 24) {
    const padded = new Uint8Array(24);
    padded.set(last.value);
    last.value = padded;
  }
  return p;
}
