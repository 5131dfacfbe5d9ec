/**
 * A seeded pseudo-random generator for the simulator: xoshiro128** seeded through
 * splitmix32, with uniform, normal and exponential draws. Implements the engine's
 * `RandomPort`, so the very same stream type feeds the engine and the simulated world.
 * Deterministic: the same seed always gives the same sequence.
 *
 * @module
 */
import type { RandomPort } from "../base/ports.ts";

/** One step of splitmix32: returns the next state and output. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** A seeded xoshiro128** generator with normal and exponential draws. */
export class SimRandom implements RandomPort {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spareNormal: number | null = null;

  /** Seeds the generator from a 32-bit integer (any number; fractions are truncated). */
  constructor(seed: number) {
    let s = seed >>> 0;
    let out: number;
    [s, out] = splitmix32(s);
    this.#a = out;
    [s, out] = splitmix32(s);
    this.#b = out;
    [s, out] = splitmix32(s);
    this.#c = out;
    [s, out] = splitmix32(s);
    this.#d = out;
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** The next 32-bit unsigned output. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** A uniform number in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i += 4) {
      const v = this.nextUint32();
      for (let j = 0; j < 4 && i + j < bytes.length; j++) bytes[i + j] = (v >>> (8 * j)) & 0xff;
    }
  }

  /** A standard normal draw (mean 0, SD 1), polar Box-Muller. */
  normal(): number {
    if (this.#spareNormal !== null) {
      const v = this.#spareNormal;
      this.#spareNormal = null;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt(-2 * Math.log(s) / s);
    this.#spareNormal = v * m;
    return u * m;
  }

  /** An exponential draw with mean 1. */
  exponential(): number {
    return -Math.log(1 - this.next());
  }

  /** A new independent generator derived from this one (for a separate stream). */
  fork(): SimRandom {
    return new SimRandom(this.nextUint32());
  }
}

/** 32-bit left rotation. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
