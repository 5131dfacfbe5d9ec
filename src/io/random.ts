/**
 * Randomness for the daemon: `RandomPort` over the Web Crypto CSPRNG, so request transmit
 * timestamps and source ports cannot be predicted by an off-path attacker.
 *
 * @module
 */
import type { RandomPort } from "../base/ports.ts";

/** `RandomPort` backed by crypto.getRandomValues, buffered to keep the per-call cost low. */
export class CryptoRandom implements RandomPort {
  readonly #pool = new Uint32Array(256);
  #index = 256;

  /** A uniform number in [0, 1) with 53 bits of randomness. */
  next(): number {
    if (this.#index + 2 > this.#pool.length) {
      crypto.getRandomValues(this.#pool);
      this.#index = 0;
    }
    const high = this.#pool[this.#index++] >>> 5; // 27 bits
    const low = this.#pool[this.#index++] >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Fills `bytes` with random bytes. */
  fill(bytes: Uint8Array): void {
    crypto.getRandomValues(bytes);
  }
}
